namespace Benchmarks;

/// <summary>Only network (b) of <see cref="MixingSuite"/>, the text decoder (per-token mixing), for work on its mixing.</summary>
public sealed class MixingDecoderSuite : MixingNetworkSuite
{
    /// <inheritdoc />
    public override string Name => "mixing-decoder";

    /// <inheritdoc />
    public override string Description => "the mixing suite's text decoder only: step time of residual, HC and mHC, per-section profile";

    /// <inheritdoc />
    protected override string Network => "decoder";

    /// <inheritdoc />
    protected override MixingWorkload Build(ConnectionKindWorkload request) => MixingWorkload.Decoder(request.Kind, request.Sizes, request.Data);
}
