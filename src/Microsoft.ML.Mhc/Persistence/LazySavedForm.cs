using Microsoft.ML.Data;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>
/// The chain of stock transforms a trained mHC transformer is saved as and builds prediction engines from
/// (<see cref="SavedScoringChain"/>): built on first use, refused once the transformer is disposed, and released with it
/// (the copy of the network its scoring mapping decoded).
/// </summary>
internal sealed class LazySavedForm
{
    private readonly Lazy<TransformerChain<ITransformer>> chain;
    private readonly Action throwIfDisposed;

    /// <summary>Builds the chain with <paramref name="build"/> on first use; <paramref name="throwIfDisposed"/> guards every use.</summary>
    public LazySavedForm(Func<TransformerChain<ITransformer>> build, Action throwIfDisposed)
    {
        chain = new Lazy<TransformerChain<ITransformer>>(build, LazyThreadSafetyMode.ExecutionAndPublication);
        this.throwIfDisposed = throwIfDisposed;
    }

    /// <summary>The chain.</summary>
    /// <exception cref="ObjectDisposedException">The transformer was disposed.</exception>
    public TransformerChain<ITransformer> Chain
    {
        get
        {
            throwIfDisposed();
            return chain.Value;
        }
    }

    /// <summary>The chain's row-to-row mapper (one row per forward pass).</summary>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => ((ITransformer)Chain).GetRowToRowMapper(inputSchema);

    /// <summary>Saves the chain.</summary>
    public void Save(ModelSaveContext ctx) => ((ICanSaveModel)Chain).Save(ctx);

    /// <summary>Frees the network the chain's scoring mapping decoded, if the chain was ever built.</summary>
    public void Release()
    {
        if (chain.IsValueCreated) SavedNetworks.Release(chain.Value);
    }
}
