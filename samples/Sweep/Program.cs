System.Console.Error.WriteLine("samples/Sweep: not built yet"); return 2;
