System.Console.Error.WriteLine("samples/StabilityBenchmark: not built yet"); return 2;
