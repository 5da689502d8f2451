System.Console.Error.WriteLine("samples/Segmentation: not built yet"); return 2;
