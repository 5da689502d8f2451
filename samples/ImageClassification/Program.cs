System.Console.Error.WriteLine("samples/ImageClassification: not built yet"); return 2;
