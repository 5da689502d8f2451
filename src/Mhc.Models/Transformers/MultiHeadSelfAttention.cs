using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Transformers;

/// <summary>
/// Multi-head self-attention on (B, T, C) through TorchSharp's fused scaled dot-product attention;
/// causal for decoders (with an optional key/value cache for incremental decoding), bidirectional for
/// vision transformers.
/// </summary>
public sealed class MultiHeadSelfAttention : Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly Dropout resid_dropout;
    private readonly int heads;
    private readonly int headDim;
    private readonly double attentionDropout;
    private LayerKeyValueCache? cache;

    /// <summary>Creates the attention.</summary>
    /// <param name="dim">Model width C; must be divisible by <paramref name="heads"/>.</param>
    /// <param name="heads">Number of heads.</param>
    /// <param name="dropout">Dropout on the attention weights and on the output, in training only.</param>
    /// <param name="causal">Whether position t may only attend to positions up to t.</param>
    /// <param name="outputInitStd">Standard deviation of the output projection at init (GPT-2 scales it by 1/sqrt(2 layers)).</param>
    /// <param name="name">Module name.</param>
    public MultiHeadSelfAttention(int dim, int heads, double dropout, bool causal, double outputInitStd = 0.02, string name = "attention")
        : base(name)
    {
        if (heads < 1 || dim % heads != 0)
            throw new ArgumentException($"The width ({dim}) must be a positive multiple of the head count ({heads}).", nameof(heads));
        this.heads = heads;
        headDim = dim / heads;
        attentionDropout = dropout;
        Causal = causal;
        qkv = Linear(dim, 3 * dim);
        proj = Linear(dim, dim);
        resid_dropout = Dropout(dropout);
        using (no_grad())
        {
            init.normal_(qkv.weight!, 0, 0.02);
            init.zeros_(qkv.bias!);
            init.normal_(proj.weight!, 0, outputInitStd);
            init.zeros_(proj.bias!);
        }
        RegisterComponents();
    }

    /// <summary>Whether the attention is causal.</summary>
    public bool Causal { get; }

    /// <summary>Number of heads (each of width C / heads).</summary>
    public int Heads => heads;

    /// <summary>
    /// The cache the next forward passes append to (null: no cache, the input is the whole sequence).
    /// Set by the owning decoder around an incremental step; a module with a cache attached is not
    /// safe to share between threads.
    /// </summary>
    internal LayerKeyValueCache? Cache
    {
        get => cache;
        set
        {
            if (value is not null && !Causal)
                throw new InvalidOperationException("A key/value cache only makes sense for causal attention.");
            cache = value;
        }
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], t = x.shape[1], c = x.shape[2];
        // (B, T, 3C) -> (3, B, H, T, D)
        var parts = qkv.forward(x).view(b, t, 3, heads, headDim).permute(2, 0, 3, 1, 4);
        var q = parts[0];
        var k = parts[1];
        var v = parts[2];
        double p = training ? attentionDropout : 0.0;
        Tensor y;
        if (cache is null)
        {
            y = functional.scaled_dot_product_attention(q, k, v, p: p, is_casual: Causal);
        }
        else
        {
            int past = cache.Length;
            var (keys, values) = cache.Append(k, v);
            if (t == 1)
                // The one new query may see every cached position and itself: no mask at all.
                y = functional.scaled_dot_product_attention(q, keys, values, p: p);
            else if (past == 0)
                y = functional.scaled_dot_product_attention(q, keys, values, p: p, is_casual: true);
            else
            {
                // The fused causal flag aligns the mask top-left; with cached keys the new queries sit at
                // past..past+T-1, so query i may see keys 0..past+i (a bottom-right aligned mask).
                var mask = ones(t, past + t, dtype: ScalarType.Bool, device: x.device).tril(past);
                y = functional.scaled_dot_product_attention(q, keys, values, mask, p: p);
            }
        }
        return resid_dropout.forward(proj.forward(y.transpose(1, 2).reshape(b, t, c)));
    }
}
