System.Console.Error.WriteLine("samples/TextGeneration: not built yet"); return 2;
