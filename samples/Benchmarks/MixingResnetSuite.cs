namespace Benchmarks;

/// <summary>Only network (a) of <see cref="MixingSuite"/>, the Hyper-ResNet, for work on the ResNet's mixing.</summary>
public sealed class MixingResnetSuite : MixingNetworkSuite
{
    /// <inheritdoc />
    public override string Name => "mixing-resnet";

    /// <inheritdoc />
    public override string Description => "the mixing suite's Hyper-ResNet only: step time of residual, HC and mHC, per-section profile";

    /// <inheritdoc />
    protected override string Network => "resnet";

    /// <inheritdoc />
    protected override MixingWorkload Build(ConnectionKindWorkload request) => MixingWorkload.Resnet(request.Kind, request.Sizes, request.Data);
}
