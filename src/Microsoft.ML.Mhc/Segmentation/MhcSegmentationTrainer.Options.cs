using Microsoft.ML.SearchSpace;
using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Training;

namespace Microsoft.ML.Mhc.Segmentation;

public sealed partial class MhcSegmentationTrainer
{
    /// <summary>
    /// Options of <see cref="MhcSegmentationTrainer"/>. The defaults train a depth-3, 16-channel Hyper-UNet with
    /// mHC history skips and n = 2 doubly stochastic streams on 64x64 grey images.
    /// </summary>
    /// <remarks>
    /// The members carrying <c>Microsoft.ML.SearchSpace</c> attributes form the search space of
    /// <see cref="Microsoft.ML.Mhc.Sweeps.Sweeper{TOptions}"/> and of AutoML's <c>SearchSpace&lt;T&gt;</c>; each
    /// attribute's default is the property's default, so a sweep starts from these options.
    /// </remarks>
    public sealed class Options : MhcTrainerOptions
    {
        /// <summary>
        /// Creates options with the segmentation defaults (batch 16, learning rate 0.003, weight decay 1e-4, scoring
        /// batch 16).
        /// </summary>
        /// <remarks>
        /// Scoring runs in one dispose scope per batch, so every activation of the forward pass lives until the batch
        /// ends: at full resolution with n streams that is tens of MB per image. The classifier's default of 256 rows
        /// made scoring 1,000 64x64 canvases peak at 13.6 GB; 16 rows keep it near the training footprint.
        /// </remarks>
        public Options()
        {
            MaxEpochs = 10;
            BatchSize = 16;
            LearningRate = 3e-3;
            WeightDecay = 1e-4;
            ScoringBatchSize = 16;
            Mixing = new MixingSettings { ExpansionRate = 2, DynamicMixing = false };
        }

        /// <summary>Images per optimisation step. Default 16 (swept over 8, 16, 32).</summary>
        [Choice(new object[] { 8, 16, 32 }, 16)]
        public override int BatchSize { get => base.BatchSize; set => base.BatchSize = value; }

        /// <summary>Peak learning rate of AdamW, reached after the warmup. Default 0.003 (swept log-uniformly over [1e-4, 3e-2]).</summary>
        [Range(1e-4, 3e-2, 3e-3, true)]
        public override double LearningRate { get => base.LearningRate; set => base.LearningRate = value; }

        /// <summary>
        /// Decoupled weight decay of AdamW on weights and kernels. Default 1e-4 (swept log-uniformly over [1e-5, 1e-2]):
        /// a dense per-pixel task over few images wants far less decay than classification.
        /// </summary>
        [Range(1e-5, 1e-2, 1e-4, true)]
        public override double WeightDecay { get => base.WeightDecay; set => base.WeightDecay = value; }

        /// <summary>
        /// The image column: a known-size float vector of <see cref="Channels"/> x <see cref="ImageHeight"/> x
        /// <see cref="ImageWidth"/> values (channel-major), or an <c>MLImage</c> column (of that size, or of no declared
        /// size as LoadImages gives, in which case every image must already be that size). Default "Features".
        /// </summary>
        public string FeatureColumnName { get; set; } = MhcColumnNames.Features;

        /// <summary>
        /// The mask column: a vector of <see cref="ImageHeight"/> x <see cref="ImageWidth"/> class ids (any integer type,
        /// whole-valued floats, or a key type whose key k is class k - 1), or a grey <c>MLImage</c> whose grey value
        /// is the class id. Default "Label".
        /// </summary>
        public string LabelColumnName { get; set; } = MhcColumnNames.Label;

        /// <summary>The output column of predicted class ids: H x W <see cref="uint"/> values per row, row-major. Default "PredictedMask".</summary>
        public string PredictedMaskColumnName { get; set; } = SegmentationColumnNames.PredictedMask;

        /// <summary>When true, also write per-pixel class probabilities (K x H x W floats, class-major). Default false.</summary>
        public bool OutputProbabilities { get; set; }

        /// <summary>The output column of the probabilities when <see cref="OutputProbabilities"/> is on. Default "Probabilities".</summary>
        public string ProbabilitiesColumnName { get; set; } = SegmentationColumnNames.Probabilities;

        /// <summary>Image height in pixels; a multiple of 2^<see cref="Depth"/>. Default 64.</summary>
        public int ImageHeight { get; set; } = 64;

        /// <summary>Image width in pixels; a multiple of 2^<see cref="Depth"/>. Default 64.</summary>
        public int ImageWidth { get; set; } = 64;

        /// <summary>Image channels: 1 (grey), 3 (RGB) or 4 (ARGB) for MLImage input; any count for vectors. Default 1.</summary>
        public int Channels { get; set; } = 1;

        /// <summary>Number of classes K, background included; 0 takes the largest class id of the training masks plus one. Default 0.</summary>
        public int NumberOfClasses { get; set; }

        /// <summary>Class display names for metrics and reports (K of them); null: "0", "1", ... Default null.</summary>
        public string[]? ClassNames { get; set; }

        /// <summary>
        /// Swept view of <see cref="MixingSettings.Connection"/> (see <see cref="MhcTrainerOptions.Mixing"/>): a residual UNet
        /// with concatenation skips, HC or mHC (one switch for A/B runs). Default <see cref="ConnectionKind.Mhc"/>.
        /// </summary>
        [Choice(new object[] { ConnectionKind.Residual, ConnectionKind.Hc, ConnectionKind.Mhc }, ConnectionKind.Mhc)]
        public ConnectionKind Connection { get => Mixing.Connection; set => Mixing = Mixing with { Connection = value }; }

        /// <summary>Number of 2x downsamplings of the UNet. Default 3 (swept over 2, 3, 4; the image sides must be multiples of 2^Depth).</summary>
        [Choice(new object[] { 2, 3, 4 }, 3)]
        public int Depth { get; set; } = 3;

        /// <summary>Channels at full resolution (doubled per level). Multiples of 16 run fastest on CPU. Default 16.</summary>
        [Choice(new object[] { 8, 16, 32 }, 16)]
        public int BaseWidth { get; set; } = 16;

        /// <summary>Residual blocks per encoder and decoder level. Default 1.</summary>
        [Choice(new object[] { 1, 2 }, 1)]
        public int BlocksPerStage { get; set; } = 1;

        /// <summary>
        /// Swept view of <see cref="MixingSettings.ExpansionRate"/> (see <see cref="MhcTrainerOptions.Mixing"/>): n streams for HC
        /// and mHC, at least 2. Default 2: at full resolution each stream is a whole feature map.
        /// </summary>
        [Choice(new object[] { 2, 4 }, 2)]
        public int ExpansionRate { get => Mixing.ExpansionRate; set => Mixing = Mixing with { ExpansionRate = value }; }

        /// <summary>H: encoder states each decoder level mixes (its own and the finer ones before it). Default 3.</summary>
        [Choice(new object[] { 1, 2, 3 }, 3)]
        public int MaxHistory { get; set; } = 3;

        /// <summary>
        /// Swept view of <see cref="MixingSettings.Constraint"/>: the constraint on
        /// the skip weights under mHC (HC skips are unconstrained, residual skips concatenate). Default <see cref="ConstraintKind.DoublyStochastic"/>.
        /// </summary>
        [Choice(new object[] { ConstraintKind.DoublyStochastic, ConstraintKind.Simplex, ConstraintKind.IdentityPreservingSimplex }, ConstraintKind.DoublyStochastic)]
        public ConstraintKind SkipConstraint { get => Mixing.Constraint; set => Mixing = Mixing with { Constraint = value }; }

        /// <summary>
        /// Swept view of <see cref="MixingSettings.DynamicMixing"/>. Default false:
        /// per-pixel mixing matrices (a Sinkhorn projection for every pixel of every map) cost several times the convolutions on CPU.
        /// </summary>
        [BooleanChoice(false)]
        public bool DynamicMixing { get => Mixing.DynamicMixing; set => Mixing = Mixing with { DynamicMixing = value }; }

        /// <summary>Class weighting of the cross-entropy. Default <see cref="SegmentationClassWeighting.None"/>.</summary>
        [Choice(new object[] { SegmentationClassWeighting.None, SegmentationClassWeighting.InverseFrequency, SegmentationClassWeighting.InverseSquareRootFrequency }, SegmentationClassWeighting.None)]
        public SegmentationClassWeighting ClassWeighting { get; set; } = SegmentationClassWeighting.None;

        /// <summary>Explicit class weights (K values, overriding <see cref="ClassWeighting"/>); null: none. Default null.</summary>
        public float[]? ClassWeights { get; set; }

        /// <summary>Weight of the soft Dice term added to the cross-entropy (1 - mean soft Dice over the classes); 0 turns it off. Default 0.</summary>
        [Range(0.0, 1.0, 0.0, false)]
        public double DiceLossWeight { get; set; }

        /// <inheritdoc />
        /// <inheritdoc />
        public override void Validate()
        {
            base.Validate();
            Check(Depth >= 1 && Depth <= 8, nameof(Depth), Depth, "between 1 and 8");
            int m = 1 << Math.Clamp(Depth, 1, 8);
            Check(ImageHeight >= m && ImageHeight % m == 0, nameof(ImageHeight), ImageHeight, $"a positive multiple of 2^Depth = {m}");
            Check(ImageWidth >= m && ImageWidth % m == 0, nameof(ImageWidth), ImageWidth, $"a positive multiple of 2^Depth = {m}");
            Check(Channels >= 1, nameof(Channels), Channels, "at least 1");
            Check(NumberOfClasses == 0 || NumberOfClasses >= 2, nameof(NumberOfClasses), NumberOfClasses, "0 (from the data) or at least 2");
            Check(BaseWidth >= 1, nameof(BaseWidth), BaseWidth, "at least 1");
            Check(BlocksPerStage >= 1, nameof(BlocksPerStage), BlocksPerStage, "at least 1");
            Check(Connection == ConnectionKind.Residual || MaxHistory >= 1, nameof(MaxHistory), MaxHistory, "at least 1");
            Check(DiceLossWeight >= 0 && double.IsFinite(DiceLossWeight), nameof(DiceLossWeight), DiceLossWeight, "zero or positive");
            if (ClassWeights is not null)
            {
                Check(ClassWeights.All(w => w >= 0 && float.IsFinite(w)) && ClassWeights.Any(w => w > 0), nameof(ClassWeights), $"[{string.Join(", ", ClassWeights)}]", "non-negative, finite and not all zero");
                if (NumberOfClasses > 0)
                    Check(ClassWeights.Length == NumberOfClasses, nameof(ClassWeights), ClassWeights.Length, $"{NumberOfClasses} values (NumberOfClasses)");
            }
            if (ClassNames is not null && NumberOfClasses > 0)
                Check(ClassNames.Length == NumberOfClasses, nameof(ClassNames), ClassNames.Length, $"{NumberOfClasses} names (NumberOfClasses)");
            foreach (var (name, value) in new[] { (nameof(LabelColumnName), LabelColumnName), (nameof(FeatureColumnName), FeatureColumnName),
                (nameof(PredictedMaskColumnName), PredictedMaskColumnName), (nameof(ProbabilitiesColumnName), ProbabilitiesColumnName) })
                if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} must name a column.", name);
        }

        /// <summary>The network options these options describe for <paramref name="classes"/> classes.</summary>
        public HyperUNetOptions ToNetworkOptions(int classes)
        {
            var o = new HyperUNetOptions
            {
                InChannels = Channels,
                NumClasses = classes,
                Depth = Depth,
                BaseWidth = BaseWidth,
                BlocksPerStage = BlocksPerStage,
                Mixing = Mixing,
                MaxHistory = MaxHistory,
            };
            o.Validate();
            return o;
        }
    }
}
