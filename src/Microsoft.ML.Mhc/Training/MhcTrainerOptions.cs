using Microsoft.ML.SearchSpace;
using Mhc.Models.Layers;
namespace Microsoft.ML.Mhc.Training;

/// <summary>
/// Options every mHC trainer shares: optimisation (AdamW, warmup + cosine learning rate, weight decay,
/// gradient clipping), validation and early stopping, reproducibility (seed, threads), device,
/// cancellation and progress reporting. Task-specific options classes derive from it.
/// </summary>
/// <remarks>
/// The swept members (<c>Microsoft.ML.SearchSpace</c> attributes) are virtual: a task whose defaults differ
/// overrides them with a search space whose default is its own, because AutoML's <c>SearchSpace&lt;T&gt;</c> starts
/// from the attribute's default, not from the property's (see <see cref="Microsoft.ML.Mhc.Sweeps.SweepSpace"/>).
/// </remarks>
public abstract class MhcTrainerOptions
{
    /// <summary>
    /// How the network's residual streams are connected and mixed: connection kind, expansion rate, dynamic mixing,
    /// initialisation, constraint and Sinkhorn settings, the same record the network's options embed. Default
    /// <see cref="MixingSettings"/>'s (mHC, n = 4); a task whose defaults differ sets its own in its constructor.
    /// </summary>
    /// <remarks>
    /// Each task's options also show the record's swept settings (<c>Connection</c>, <c>ExpansionRate</c>,
    /// <c>DynamicMixing</c>) as flat members that read and replace this record: AutoML's <c>SearchSpace&lt;T&gt;</c> and
    /// <see cref="Microsoft.ML.Mhc.Sweeps.SweepSpace"/> sweep flat, attributed members, and each task has its own
    /// candidates and defaults. They are declared in the task's class, where they were before the record, so the
    /// order of a sweep's dimensions, and with it what a seeded random sweep draws, is unchanged.
    /// </remarks>
    public MixingSettings Mixing { get; set; } = new();

    /// <summary>Number of passes over the training data. Default 10.</summary>
    [Range(1, 50, 10, true)]
    public virtual int MaxEpochs { get; set; } = 10;

    /// <summary>Examples per optimisation step. Default 64.</summary>
    [Choice(new object[] { 32, 64, 128 }, 64)]
    public virtual int BatchSize { get; set; } = 64;

    /// <summary>Peak learning rate of AdamW, reached after the warmup. Default 0.002.</summary>
    [Range(1e-4, 1e-2, 2e-3, true)]
    public virtual double LearningRate { get; set; } = 2e-3;

    /// <summary>
    /// Decoupled weight decay of AdamW (Loshchilov and Hutter, 2019). Applied to weight matrices and
    /// convolution kernels only: biases, normalisation scales and the hyper-connection mixing biases and
    /// gates are not decayed, since pulling those towards zero would drag H_res towards the uniform
    /// matrix rather than regularise. Default 0.05.
    /// </summary>
    [Range(1e-4, 0.2, 0.05, true)]
    public virtual double WeightDecay { get; set; } = 0.05;

    /// <summary>Share of all steps spent warming the learning rate up linearly from zero. Default 0.05.</summary>
    [Range(0.0, 0.2, 0.05, false)]
    public virtual double WarmupFraction { get; set; } = 0.05;

    /// <summary>The cosine decay ends at <see cref="LearningRate"/> times this factor. Default 0.01.</summary>
    public double FinalLearningRateFraction { get; set; } = 0.01;

    /// <summary>Clips the global gradient L2 norm to this value before each step; 0 turns clipping off. Default 1.</summary>
    public double GradientClipNorm { get; set; } = 1.0;

    /// <summary>
    /// Data with the same schema as the training data (label already mapped to a key) on which the model
    /// is evaluated after every epoch. Needed for <see cref="EarlyStoppingPatience"/>. Default none.
    /// </summary>
    public IDataView? ValidationSet { get; set; }

    /// <summary>
    /// Stops after this many epochs without a better validation score and restores the best weights;
    /// 0 turns early stopping off (training runs <see cref="MaxEpochs"/> and keeps the last weights).
    /// Requires <see cref="ValidationSet"/>. Default 0.
    /// </summary>
    public int EarlyStoppingPatience { get; set; }

    /// <summary>
    /// Fine-tuning: a weights file (safetensors, or PyTorch <c>.pt</c>/<c>.pth</c>/<c>.bin</c>; see
    /// <see cref="global::Mhc.Models.Weights.ModuleWeights"/>) that training starts from instead of a random
    /// initialisation. It must hold the state_dict of the network the options describe (same architecture, sizes and
    /// class count or vocabulary size). For image and segmentation networks that includes the input standardisation
    /// buffers <c>input_mean</c> and <c>input_std</c>: those of the file are kept, so the network sees its inputs as it did
    /// when the weights were trained. For text, the vocabulary is still built from the training text, which must give the
    /// same vocabulary as the one the weights were trained with: a different size fails naming the embedding tensor, but
    /// a vocabulary of the same size with other tokens cannot be detected. Fit throws <see cref="FileNotFoundException"/>
    /// when the file is missing and <see cref="InvalidDataException"/> naming each tensor that does not fit. Default null
    /// (random initialisation).
    /// </summary>
    public string? InitialWeightsPath { get; set; }

    /// <summary>
    /// A wall-time budget for training. After each epoch the loop plans only the epochs that still fit
    /// (at the measured speed) and re-aims the cosine decay to end with them, so a budgeted run ends with
    /// a fully decayed learning rate; it also stops once the budget is spent. Null: no limit. Default null.
    /// </summary>
    public TimeSpan? TrainingTimeBudget { get; set; }

    /// <summary>
    /// Seed of the weight initialisation, shuffling and augmentation: equal seeds give equal models on CPU. Null (default)
    /// follows ML.NET's convention: the seed is drawn from the <see cref="MLContext"/> the trainer was made from, so
    /// <c>new MLContext(seed: 1)</c> gives the same model every run, and an unseeded context a different one each time.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>CPU threads libtorch may use while training and scoring; 0 keeps libtorch's default (all cores). Default 0.</summary>
    public int NumberOfThreads { get; set; }

    /// <summary>Where to train: <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> or <c>auto</c> (CUDA when available). Default <c>cpu</c>.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// Examples per forward pass when the trained model scores a data view. Default 256 (segmentation: 16, since
    /// all activations of a batch stay alive until it is done).
    /// </summary>
    public int ScoringBatchSize { get; set; } = 256;

    /// <summary>Collects mHC mixing diagnostics (gains of H_res, composite gain) after every epoch. Default true.</summary>
    public bool CollectDiagnostics { get; set; } = true;

    /// <summary>
    /// Also receives the trainer's status lines (one per epoch and a few more). They always go to the log of the
    /// <see cref="MLContext"/> the trainer was made from (<c>mlContext.Log</c>, as ML.NET's own trainers write, with the
    /// trainer's name as source); this callback is for callers that want the plain lines too. Default none.
    /// </summary>
    public Action<string>? Log { get; set; }

    /// <summary>Called after every epoch with its metrics and diagnostics. Default none.</summary>
    public Action<MhcEpochReport>? EpochCallback { get; set; }

    /// <summary>Called after every optimisation step (keep it cheap); drives progress bars. Default none.</summary>
    public Action<MhcTrainingProgress>? ProgressCallback { get; set; }

    /// <summary>Cancels training between steps (an <see cref="OperationCanceledException"/> is thrown). Default none.</summary>
    public CancellationToken CancellationToken { get; set; }

    /// <summary>
    /// A shallow copy for one Fit: <see cref="Seed"/> resolved to <paramref name="seed"/> and <see cref="Log"/> replaced by
    /// <paramref name="log"/> (which forwards to the caller's callback itself), so the training loop sees one seed and one sink.
    /// </summary>
    internal TOptions ForFit<TOptions>(int seed, Action<string> log) where TOptions : MhcTrainerOptions
    {
        var copy = (TOptions)MemberwiseClone();
        copy.Seed = seed;
        copy.Log = log;
        return copy;
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first inconsistent option.</summary>
    public virtual void Validate()
    {
        if (InitialWeightsPath is not null && string.IsNullOrWhiteSpace(InitialWeightsPath))
            throw new ArgumentException($"{nameof(InitialWeightsPath)} must name a weights file or be null.", nameof(InitialWeightsPath));
        Check(MaxEpochs >= 1, nameof(MaxEpochs), MaxEpochs, "at least 1");
        Check(BatchSize >= 1, nameof(BatchSize), BatchSize, "at least 1");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "positive");
        Check(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "zero or positive");
        Check(WarmupFraction >= 0 && WarmupFraction < 1, nameof(WarmupFraction), WarmupFraction, "in [0, 1)");
        Check(FinalLearningRateFraction >= 0 && FinalLearningRateFraction <= 1, nameof(FinalLearningRateFraction), FinalLearningRateFraction, "in [0, 1]");
        Check(GradientClipNorm >= 0 && double.IsFinite(GradientClipNorm), nameof(GradientClipNorm), GradientClipNorm, "zero (off) or positive");
        Check(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), EarlyStoppingPatience, "zero (off) or positive");
        Check(TrainingTimeBudget is null || TrainingTimeBudget > TimeSpan.Zero, nameof(TrainingTimeBudget), TrainingTimeBudget ?? TimeSpan.Zero, "positive or null");
        Check(NumberOfThreads >= 0, nameof(NumberOfThreads), NumberOfThreads, "zero (default) or positive");
        Check(ScoringBatchSize >= 1, nameof(ScoringBatchSize), ScoringBatchSize, "at least 1");
        ArgumentNullException.ThrowIfNull(Mixing, nameof(Mixing));
        Mixing.Validate();
        if (Mixing.Connection != ConnectionKind.Residual) CheckExpansionRate(Mixing.ExpansionRate, Mixing.Connection.ToString());
        if (EarlyStoppingPatience > 0 && ValidationSet is null)
            throw new ArgumentException($"{nameof(EarlyStoppingPatience)} = {EarlyStoppingPatience} needs a {nameof(ValidationSet)}.", nameof(ValidationSet));
    }

    /// <summary>
    /// Checks the expansion rate n of a hyper-connected network (<paramref name="connection"/> is HC or mHC): one stream
    /// has nothing to mix (H_res is the 1x1 matrix [1] under mHC, a learned scalar under HC), which is a gated residual
    /// connection rather than a hyper-connection, so n = 1 is rejected with a message that says so.
    /// </summary>
    private static void CheckExpansionRate(int expansionRate, string connection)
    {
        if (expansionRate >= 2) return;
        throw new ArgumentOutOfRangeException("ExpansionRate", expansionRate, expansionRate == 1
            ? $"ExpansionRate must be at least 2 with Connection = {connection}; got 1. With one stream there is nothing to mix " +
              $"(H_res is the 1x1 matrix [1] under mHC, a learned scalar under HC): that is a residual connection. " +
              $"Use Connection = {nameof(ConnectionKind.Residual)} for a plain residual network, or ExpansionRate = 2 or more."
            : $"ExpansionRate must be at least 2 with Connection = {connection}; got {expansionRate}.");
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when <paramref name="ok"/> is false.</summary>
    protected static void Check(bool ok, string name, object value, string expected)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} must be {expected}; got {value}.");
    }
}
