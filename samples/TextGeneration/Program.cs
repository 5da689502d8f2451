return TextGeneration.TextGenerationSample.Run(args);
