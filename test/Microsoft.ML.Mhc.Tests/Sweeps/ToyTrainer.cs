using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.SearchSpace;
using Microsoft.ML.Mhc.Sweeps;

namespace Microsoft.ML.Mhc.Tests.Sweeps;

public enum ToyKind { Alpha, Beta, Gamma }

/// <summary>Options of a synthetic trainer whose score has a known optimum: X = 0.25, Kind = Beta, Flag = true.</summary>
public sealed class ToyOptions
{
    [Range(0.0, 1.0)]
    public double X { get; set; } = 0.9;

    [Choice(new object[] { ToyKind.Alpha, ToyKind.Beta, ToyKind.Gamma })]
    public ToyKind Kind { get; set; } = ToyKind.Alpha;

    [BooleanChoice(false)]
    public bool Flag { get; set; }

    [Range(1, 100)]
    public int Epochs { get; set; } = 1;

    /// <summary>Not swept: simulated training time.</summary>
    public int SleepMilliseconds { get; set; }

    /// <summary>Not swept: makes Fit throw when X exceeds it.</summary>
    public double FailAbove { get; set; } = double.PositiveInfinity;

    /// <summary>Quality in (-inf, 3]: peak 3 at the optimum; more epochs approach it as e/(e+1).</summary>
    public double Quality() =>
        (1 - 10 * (X - 0.25) * (X - 0.25) + (Kind == ToyKind.Beta ? 1 : 0) + (Flag ? 1 : 0)) * Epochs / (Epochs + 1.0);
}

internal sealed class ToyEstimator(ToyOptions options) : IEstimator<ITransformer>
{
    public static readonly List<ToyModel> Fitted = [];

    public ITransformer Fit(IDataView input)
    {
        if (options.X > options.FailAbove) throw new InvalidOperationException($"X={options.X} is too large");
        if (options.SleepMilliseconds > 0) Thread.Sleep(options.SleepMilliseconds);
        var model = new ToyModel(options.Quality(), options.Epochs);
        lock (Fitted) Fitted.Add(model);
        return model;
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => inputSchema;
}

internal sealed class ToyModel(double quality, int epochs) : ITransformer, IDisposable
{
    public double Quality { get; } = quality;
    public int Epochs { get; } = epochs;
    public bool Disposed { get; private set; }
    public bool IsRowToRowMapper => false;
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => throw new NotSupportedException();
    public IDataView Transform(IDataView input) => input;
    public void Save(ModelSaveContext ctx) => throw new NotSupportedException();
    public void Dispose() => Disposed = true;
}

internal static class Toy
{
    public sealed class Row { public float Value { get; set; } }

    public static IDataView Data(MLContext ml, int rows = 40) =>
        ml.Data.LoadFromEnumerable(Enumerable.Range(0, rows).Select(i => new Row { Value = i }));

    public static SweepMetric Quality { get; } = new("Quality", (m, _) => ((ToyModel)m).Quality, maximize: true);
}
