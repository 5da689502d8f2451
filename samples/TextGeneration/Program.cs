return Mhc.Samples.TextGeneration.TextGenerationSample.Run(args);
