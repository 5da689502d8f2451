using Microsoft.ML.SearchSpace;
using Mhc.Models.Layers;
using Mhc.Models.Transformers;
using Mhc.Models.Vision;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.Training;

namespace Microsoft.ML.Mhc.ImageClassification;

public sealed partial class MhcImageClassificationTrainer
{
    /// <summary>
    /// Options of <see cref="MhcImageClassificationTrainer"/>. The defaults train a small Hyper-ResNet with
    /// n = 4 doubly stochastic streams (mHC) on 28x28 grey images in a few minutes on two CPU cores.
    /// </summary>
    public sealed class Options : MhcTrainerOptions
    {
        private int? maxEpochs;

        /// <summary>Creates options with the image classification defaults.</summary>
        public Options()
        {
            BatchSize = 64;
        }

        /// <summary>
        /// Passes over the training data. Default: chosen from the data size, so that a first model is good without
        /// tuning (see <see cref="SmallDataDefaults"/>): enough epochs for about 200 optimisation steps, at least 10
        /// and at most 100 (so 10 from about 1,280 images on, at batch 64). Setting MaxEpochs (to any value, as a sweep
        /// also does) trains exactly that many epochs. Reads 10 while unset.
        /// </summary>
        [Range(1, 50, 10, true)]
        public override int MaxEpochs { get => maxEpochs ?? SmallDataDefaults.BaseEpochs; set => maxEpochs = value; }

        /// <summary>True while <see cref="MaxEpochs"/> has not been set: the trainer then chooses the epochs from the data size.</summary>
        public bool EpochsFromDataSize => maxEpochs is null;

        /// <summary>The key-typed label column (map text or numbers with MapValueToKey). Default "Label".</summary>
        public string LabelColumnName { get; set; } = MhcColumnNames.Label;

        /// <summary>
        /// The image column: a known-size float vector of <see cref="Channels"/> x <see cref="ImageHeight"/> x
        /// <see cref="ImageWidth"/> values in channel-major order (as ExtractPixels writes by default), or an
        /// <c>MLImage</c> column of that size (LoadImages + ResizeImages). Default "Features".
        /// </summary>
        public string FeatureColumnName { get; set; } = MhcColumnNames.Features;

        /// <summary>The output column of class probabilities. Default "Score".</summary>
        public string ScoreColumnName { get; set; } = MhcColumnNames.Score;

        /// <summary>The output column of the predicted key. Default "PredictedLabel".</summary>
        public string PredictedLabelColumnName { get; set; } = MhcColumnNames.PredictedLabel;

        /// <summary>Image height in pixels. Default 28.</summary>
        public int ImageHeight { get; set; } = 28;

        /// <summary>Image width in pixels. Default 28.</summary>
        public int ImageWidth { get; set; } = 28;

        /// <summary>Image channels: 1 (grey), 3 (RGB) or 4 (ARGB) for MLImage input; any count for vectors. Default 1.</summary>
        public int Channels { get; set; } = 1;

        /// <summary>The network family. Default <see cref="MhcImageArchitecture.HyperResNet"/>.</summary>
        public MhcImageArchitecture Architecture { get; set; } = MhcImageArchitecture.HyperResNet;

        /// <summary>Swept view of <see cref="MixingSettings.Connection"/> (see <see cref="MhcTrainerOptions.Mixing"/>): plain residual, HC or mHC. Default <see cref="ConnectionKind.Mhc"/>.</summary>
        [Choice(new object[] { ConnectionKind.Residual, ConnectionKind.Hc, ConnectionKind.Mhc }, ConnectionKind.Mhc)]
        public ConnectionKind Connection { get => Mixing.Connection; set => Mixing = Mixing with { Connection = value }; }

        /// <summary>Swept view of <see cref="MixingSettings.ExpansionRate"/>: n residual streams, at least 2 for HC and mHC. Default 4 (paper).</summary>
        [Choice(new object[] { 2, 4, 8 }, 4)]
        public int ExpansionRate { get => Mixing.ExpansionRate; set => Mixing = Mixing with { ExpansionRate = value }; }

        /// <summary>Swept view of <see cref="MixingSettings.DynamicMixing"/>: input-dependent mixing (mHC eq. 5-7) when true. Default true.</summary>
        [BooleanChoice(true)]
        public bool DynamicMixing { get => Mixing.DynamicMixing; set => Mixing = Mixing with { DynamicMixing = value }; }

        /// <summary>Hyper-ResNet: blocks per stage (each later stage halves the resolution, doubles the width). Default [2, 2, 2].</summary>
        public int[] StageDepths { get; set; } = [2, 2, 2];

        /// <summary>Hyper-ResNet: channels of the first stage. Default 32.</summary>
        [Choice(new object[] { 16, 32, 64 }, 32)]
        public int BaseWidth { get; set; } = 32;

        /// <summary>Hyper-ResNet: branch shape. Default <see cref="ResNetBlockKind.Basic"/>.</summary>
        public ResNetBlockKind Block { get; set; } = ResNetBlockKind.Basic;

        /// <summary>Vision transformer: side of the square patches. Default 4.</summary>
        public int PatchSize { get; set; } = 4;

        /// <summary>Vision transformer: model width. Default 128.</summary>
        public int TransformerDim { get; set; } = 128;

        /// <summary>Vision transformer: blocks. Default 6.</summary>
        public int TransformerLayers { get; set; } = 6;

        /// <summary>Vision transformer: attention heads (must divide <see cref="TransformerDim"/>). Default 4.</summary>
        public int TransformerHeads { get; set; } = 4;

        /// <summary>
        /// Vision transformer: how the final patch tokens become class scores. Default
        /// <see cref="VisionTransformerHead.TokenGrid"/> (the tokens flattened on their grid, so the classifier sees where
        /// features are); <see cref="VisionTransformerHead.MeanPool"/> averages all tokens.
        /// </summary>
        public VisionTransformerHead TransformerHead { get; set; } = VisionTransformerHead.TokenGrid;

        /// <summary>
        /// Vision transformer, token-grid head: side of the grid of evenly spaced tokens the classifier reads (the
        /// reference implementation uses 4); 0 reads every patch token. Default 0.
        /// </summary>
        public int TransformerHeadGridSize { get; set; }

        /// <summary>
        /// Vision transformer: position information of the patch tokens. Default <see cref="PatchPositionEncoding.Sinusoidal2D"/>
        /// (fixed 2-D sinusoids; <see cref="TransformerDim"/> must be divisible by 4); <see cref="PatchPositionEncoding.Learned"/> learns one vector per patch.
        /// </summary>
        public PatchPositionEncoding TransformerPositions { get; set; } = PatchPositionEncoding.Sinusoidal2D;

        /// <summary>Vision transformer: share of patch tokens dropped at random in training. Default 0.</summary>
        public double MaskRatio { get; set; }

        /// <summary>Dropout before the classifier (and, for the transformer, inside the blocks). Default 0.</summary>
        [Range(0.0, 0.3, 0.0, false)]
        public double Dropout { get; set; }

        /// <summary>Label smoothing of the cross-entropy loss, in [0, 1). Default 0.</summary>
        public double LabelSmoothing { get; set; }

        /// <summary>Augmentation: random shift of up to this many pixels (zero-padded crop). 0 turns it off. Default 2.</summary>
        public int AugmentShiftPixels { get; set; } = 2;

        /// <summary>Augmentation: random horizontal flips. Off by default, since digits and text are not mirror-symmetric.</summary>
        public bool AugmentHorizontalFlip { get; set; }

        /// <summary>
        /// Augmentation: random rotation of up to this many degrees either way, in [0, 180]. Default 0 (off). With a
        /// rotation or zoom, each training batch is warped by one random affine transform per image (bilinear), which
        /// also does the <see cref="AugmentShiftPixels"/> shift, then continuous.
        /// </summary>
        public double AugmentRotationDegrees { get; set; }

        /// <summary>Augmentation: random zoom by a factor in [1 - s, 1 + s] for this s, in [0, 1). Default 0 (off). See <see cref="AugmentRotationDegrees"/>.</summary>
        public double AugmentScale { get; set; }

        /// <inheritdoc />
        public override void Validate()
        {
            base.Validate();
            Check(ImageHeight >= 4, nameof(ImageHeight), ImageHeight, "at least 4");
            Check(ImageWidth >= 4, nameof(ImageWidth), ImageWidth, "at least 4");
            Check(Channels >= 1, nameof(Channels), Channels, "at least 1");
            // Each architecture's own settings; the other's are not read.
            if (Architecture == MhcImageArchitecture.HyperResNet)
            {
                Check(StageDepths is { Length: > 0 } && StageDepths.All(d => d >= 1), nameof(StageDepths), StageDepths is null ? "null" : $"[{string.Join(", ", StageDepths)}]", "one or more stages of at least one block");
                Check(BaseWidth >= 1, nameof(BaseWidth), BaseWidth, "at least 1");
            }
            Check(Dropout >= 0 && Dropout < 1, nameof(Dropout), Dropout, "in [0, 1)");
            Check(LabelSmoothing >= 0 && LabelSmoothing < 1, nameof(LabelSmoothing), LabelSmoothing, "in [0, 1)");
            Check(AugmentShiftPixels >= 0 && AugmentShiftPixels < Math.Min(ImageHeight, ImageWidth), nameof(AugmentShiftPixels), AugmentShiftPixels, "zero or positive and smaller than the image");
            Check(AugmentRotationDegrees >= 0 && AugmentRotationDegrees <= 180, nameof(AugmentRotationDegrees), AugmentRotationDegrees, "in [0, 180]");
            Check(AugmentScale >= 0 && AugmentScale < 1, nameof(AugmentScale), AugmentScale, "in [0, 1)");
            Check(MaskRatio >= 0 && MaskRatio < 1, nameof(MaskRatio), MaskRatio, "in [0, 1)");
            foreach (var (name, value) in new[] { (nameof(LabelColumnName), LabelColumnName), (nameof(FeatureColumnName), FeatureColumnName),
                (nameof(ScoreColumnName), ScoreColumnName), (nameof(PredictedLabelColumnName), PredictedLabelColumnName) })
                if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"{name} must name a column.", name);
        }
    }
}
