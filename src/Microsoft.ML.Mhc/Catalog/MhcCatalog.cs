using Mhc.Models.Layers;
using Microsoft.ML.Mhc.Catalog;
using Microsoft.ML.Mhc.DataViews;
using Microsoft.ML.Mhc.ImageClassification;

namespace Microsoft.ML;

/// <summary>Catalog entry points of the mHC trainers, in ML.NET's style.</summary>
public static class MhcCatalog
{
    /// <summary>
    /// An mHC image classifier (Hyper-ResNet or hyper-connected vision transformer) with all options.
    /// </summary>
    /// <remarks>The trainer logs to the catalog's <see cref="MLContext"/> (<c>mlContext.Log</c>, source
    /// <c>MhcImage</c>) and, when <see cref="Microsoft.ML.Mhc.Training.MhcTrainerOptions.Seed"/> is null, draws its seed from
    /// it, as ML.NET's own trainers do. The stock transforms it uses inside (pixel extraction, the saved scoring chain) are
    /// built on that same <see cref="MLContext"/>.</remarks>
    public static MhcImageClassificationTrainer MhcImage(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        MhcImageClassificationTrainer.Options options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        var environment = CatalogEnvironment.Of(catalog);
        var ml = CatalogEnvironment.ContextOf(environment)
            ?? throw new NotSupportedException(
                $"Cannot reach the MLContext behind {catalog.GetType().Name} in ML.NET {typeof(MLContext).Assembly.GetName().Version}. " +
                "Create the trainer with its constructor, passing your MLContext: new MhcImageClassificationTrainer(mlContext, options).");
        return new MhcImageClassificationTrainer(ml, options);
    }

    /// <summary>An mHC image classifier with the common options; the rest keep their defaults.</summary>
    /// <param name="catalog">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">The key-typed label column.</param>
    /// <param name="featureColumnName">The image column: a float vector of C x H x W values or an MLImage.</param>
    /// <param name="imageHeight">Image height.</param>
    /// <param name="imageWidth">Image width.</param>
    /// <param name="channels">Image channels.</param>
    /// <param name="maxEpochs">Passes over the training data; null (default) chooses them from the data size (see <see cref="MhcImageClassificationTrainer.Options.MaxEpochs"/>).</param>
    /// <param name="batchSize">Examples per step.</param>
    /// <param name="learningRate">Peak learning rate.</param>
    /// <param name="architecture">Network family.</param>
    /// <param name="connection">Residual, HC or mHC connections.</param>
    /// <param name="expansionRate">Residual streams n.</param>
    public static MhcImageClassificationTrainer MhcImage(this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog,
        string labelColumnName = MhcColumnNames.Label,
        string featureColumnName = MhcColumnNames.Features,
        int imageHeight = 28,
        int imageWidth = 28,
        int channels = 1,
        int? maxEpochs = null,
        int batchSize = 64,
        double learningRate = 2e-3,
        MhcImageArchitecture architecture = MhcImageArchitecture.HyperResNet,
        ConnectionKind connection = ConnectionKind.Mhc,
        int expansionRate = 4)
    {
        var options = new MhcImageClassificationTrainer.Options
        {
            LabelColumnName = labelColumnName,
            FeatureColumnName = featureColumnName,
            ImageHeight = imageHeight,
            ImageWidth = imageWidth,
            Channels = channels,
            BatchSize = batchSize,
            LearningRate = learningRate,
            Architecture = architecture,
            Connection = connection,
            ExpansionRate = expansionRate,
        };
        if (maxEpochs is { } epochs) options.MaxEpochs = epochs;
        return catalog.MhcImage(options);
    }
}
