return Mhc.Samples.Sweep.SweepSample.Run(args);
