using Mhc.Models.Layers;
using Mhc.Models.Native;
using Mhc.Models.Transformers;
using Mhc.Models.Vision;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Benchmarks;

/// <summary>
/// A training step of a network on a fixed random batch (the step's cost does not depend on the values): forward,
/// cross-entropy, backward and AdamW, in a dispose scope and the no-GC guard, as the library's training loop runs it.
/// </summary>
public sealed class TrainingStepWorkload : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> network;
    private readonly optim.Optimizer optimizer;
    private readonly Tensor input;
    private readonly Tensor target;
    private readonly bool perToken;

    private TrainingStepWorkload(nn.Module<Tensor, Tensor> network, Tensor input, Tensor target, bool perToken)
    {
        this.network = network;
        this.input = input;
        this.target = target;
        this.perToken = perToken;
        network.train();
        optimizer = OptimizerFactory.AdamW(network, 2e-3, 0.05);
    }

    /// <summary>The image sample's main-job network: Hyper-ResNet width 16, one block per stage, mHC n = 4, 28x28 grey.</summary>
    public static TrainingStepWorkload HyperResNet(int batch)
    {
        var options = new HyperResNetOptions
        {
            InChannels = 1, NumClasses = 10, ImageHeight = 28, ImageWidth = 28,
            BaseWidth = 16, StageDepths = [1, 1, 1], Mixing = new() { Connection = ConnectionKind.Mhc, ExpansionRate = 4 },
        };
        return new TrainingStepWorkload(new HyperResNet(options), randn(batch, 1, 28, 28), randint(0, 10, [batch]), perToken: false);
    }

    /// <summary>The text sample's decoder shape: width 128, 4 layers, 4 heads, context 128, mHC n = 4, a character vocabulary.</summary>
    public static TrainingStepWorkload Decoder(int batch, int context = 128)
    {
        const int vocabulary = 96;
        var options = new HyperDecoderTransformerOptions
        {
            VocabSize = vocabulary, ContextLength = context, Transformer = new() { Dim = 128, Layers = 4, Heads = 4 },
            Mixing = new() { Connection = ConnectionKind.Mhc, ExpansionRate = 4 },
        };
        return new TrainingStepWorkload(new HyperDecoderTransformer(options), randint(0, vocabulary, [batch, context]),
            randint(0, vocabulary, [batch * context]), perToken: true);
    }

    /// <summary>One step.</summary>
    public void Step()
    {
        using var scope = NewDisposeScope();
        using var step = NativeStep.Training();
        optimizer.zero_grad();
        var logits = network.forward(input);
        if (perToken) logits = logits.reshape(-1, logits.shape[^1]);
        var loss = nn.functional.cross_entropy(logits, target);
        loss.backward();
        optimizer.step();
    }

    /// <summary>Frees the network and the batch.</summary>
    public void Dispose()
    {
        optimizer.Dispose();
        network.Dispose();
        input.Dispose();
        target.Dispose();
    }
}

/// <summary>
/// Scoring an image model as a user does: a trained mHC image classifier (the main-job network, trained for one short
/// epoch on random pixels, since the time to score does not depend on the weights), then single-row
/// <see cref="PredictionEngine{TSrc,TDst}"/> calls and batched <c>Transform</c> over the same rows.
/// </summary>
public sealed class ImageScoringWorkload : IDisposable
{
    private const int Pixels = 28 * 28;
    private readonly MLContext ml = new(seed: 1);
    private readonly ITransformer model;
    private readonly PredictionEngine<PixelRow, ScoredRow> engine;
    private readonly PixelRow[] rows;
    private readonly IDataView rowsView;
    private int next;

    /// <summary>Trains the model and prepares <paramref name="rowCount"/> rows to score.</summary>
    public ImageScoringWorkload(int rowCount)
    {
        var random = new Random(1);
        PixelRow Row(int i) => new() { Label = (uint)(i % 10 + 1), Pixels = Enumerable.Range(0, Pixels).Select(_ => (float)random.NextDouble()).ToArray() };
        var training = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 64).Select(Row).ToList(), SchemaFor());
        var trainer = ml.MulticlassClassification.Trainers.MhcImage(new MhcImageClassificationTrainer.Options
        {
            FeatureColumnName = "Pixels", LabelColumnName = "Label", ImageHeight = 28, ImageWidth = 28, Channels = 1,
            BaseWidth = 16, StageDepths = [1, 1, 1], ExpansionRate = 4, MaxEpochs = 1, BatchSize = 32, Seed = 1,
        });
        model = trainer.Fit(training);
        engine = ml.Model.CreatePredictionEngine<PixelRow, ScoredRow>(model, inputSchemaDefinition: SchemaFor());
        rows = Enumerable.Range(0, rowCount).Select(Row).ToArray();
        rowsView = ml.Data.LoadFromEnumerable(rows, SchemaFor());
    }

    /// <summary>Rows in the batch of <see cref="TransformAll"/>.</summary>
    public int RowCount => rows.Length;

    /// <summary>One single-row prediction (the next row, round robin).</summary>
    public void PredictOne()
    {
        var scored = engine.Predict(rows[next]);
        next = (next + 1) % rows.Length;
        if (scored.Score.Length != 10) throw new InvalidOperationException($"Expected 10 scores, got {scored.Score.Length}.");
    }

    /// <summary>Scores all rows with a batched <c>Transform</c> and reads the scores.</summary>
    public void TransformAll()
    {
        var scores = model.Transform(rowsView).GetColumn<float[]>("Score").Count();
        if (scores != rows.Length) throw new InvalidOperationException($"Expected {rows.Length} scored rows, got {scores}.");
    }

    /// <summary>Frees the engine and the model.</summary>
    public void Dispose()
    {
        engine.Dispose();
        (model as IDisposable)?.Dispose();
    }

    private static SchemaDefinition SchemaFor()
    {
        var schema = SchemaDefinition.Create(typeof(PixelRow));
        schema[nameof(PixelRow.Pixels)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Pixels);
        schema[nameof(PixelRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 10);
        return schema;
    }

    /// <summary>An input row.</summary>
    public sealed class PixelRow
    {
        /// <summary>28 x 28 grey pixels.</summary>
        public float[] Pixels { get; set; } = [];

        /// <summary>Class key (1-based).</summary>
        public uint Label { get; set; }
    }

    /// <summary>A scored row.</summary>
    public sealed class ScoredRow
    {
        /// <summary>Class probabilities.</summary>
        public float[] Score { get; set; } = [];
    }
}
