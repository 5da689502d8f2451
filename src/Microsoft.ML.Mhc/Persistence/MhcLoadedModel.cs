using System.Collections;
using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// A model read by <see cref="MhcModelFile.Load"/>, or loaded by ML.NET and wrapped by <see cref="MhcModelFile.Wrap"/>:
/// the chain ML.NET loaded, plus a <see cref="Dispose"/> that frees the native memory of its mHC networks (which
/// ML.NET's own chain cannot reach; see <see cref="SavedNetworks"/>).
/// </summary>
/// <remarks>
/// It saves, builds prediction engines and enumerates its transformers exactly like the chain it wraps. Its
/// <see cref="Transform"/> gives the same values, but runs each saved scoring segment through the task's scorer, as the
/// trained transformer did: in batches of its scoring batch size, with the same columns and annotations (a classifier's
/// <c>Score</c> slot names), where the stock chain alone scores one row per forward pass and has no slot names. After
/// <see cref="Dispose"/> every use throws <see cref="ObjectDisposedException"/>, including data views and prediction
/// engines made from it before.
/// </remarks>
public sealed class MhcLoadedModel : ITransformer, IEnumerable<ITransformer>, IDisposable, IReleasable
{
    private readonly ITransformer model;
    private readonly Lazy<ITransformer> batched;
    private int released;

    internal MhcLoadedModel(ITransformer model)
    {
        this.model = model;
        batched = new Lazy<ITransformer>(() => ScoringSegment.WithScoringSteps(model), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The model as ML.NET loaded it.</summary>
    public ITransformer Model => model;

    /// <inheritdoc />
    public bool IsRowToRowMapper => model.IsRowToRowMapper;

    /// <summary>Whether <see cref="Dispose"/> was called.</summary>
    public bool IsReleased => Volatile.Read(ref released) == 1;

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        ThrowIfDisposed();
        return batched.Value.GetOutputSchema(inputSchema);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public IDataView Transform(IDataView input)
    {
        ThrowIfDisposed();
        return batched.Value.Transform(input);
    }

    /// <inheritdoc />
    /// <exception cref="ObjectDisposedException">The model was disposed.</exception>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
    {
        ThrowIfDisposed();
        return model.GetRowToRowMapper(inputSchema);
    }

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ThrowIfDisposed();
        ((ICanSaveModel)model).Save(ctx);
    }

    /// <summary>Frees the native memory of the model's mHC networks.</summary>
    public void Dispose() => Release();

    /// <inheritdoc />
    public IEnumerator<ITransformer> GetEnumerator() =>
        (model is IEnumerable<ITransformer> chain ? chain : [model]).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal int Release()
    {
        if (Interlocked.Exchange(ref released, 1) == 1) return 0;
        int freed = SavedNetworks.Release(model);
        (model as IDisposable)?.Dispose();
        return freed;
    }

    private void ThrowIfDisposed()
    {
        if (IsReleased)
            throw new ObjectDisposedException(nameof(MhcLoadedModel), "This loaded mHC model was disposed, which freed its networks; load it again to use it.");
    }
}
