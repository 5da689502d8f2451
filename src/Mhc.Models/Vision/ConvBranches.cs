using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Mhc.Models.Vision;

/// <summary>
/// The mHC 3x3 conv unit: BN, ReLU, 3x3 conv. Pre-activation order (He et al., 2016b) keeps the
/// stream path free of non-linearities, which is what lets hyper-connections mix streams linearly.
/// </summary>
public sealed class ConvUnit : Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn;
    private readonly Conv2d conv;

    /// <summary>Creates the unit.</summary>
    public ConvUnit(int inChannels, int outChannels, int stride = 1, string name = "conv_unit") : base(name)
    {
        bn = BatchNorm2d(inChannels);
        conv = Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => conv.forward(functional.relu(bn.forward(x)));
}

/// <summary>ResNet-18/34 branch: two 3x3 conv units (pre-activation).</summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly ConvUnit unit1;
    private readonly ConvUnit unit2;

    /// <summary>Output channels per input plane count (1 for the basic block).</summary>
    public const int Expansion = 1;

    /// <summary>Creates the branch; <paramref name="stride"/> 2 halves the resolution.</summary>
    public BasicBlock(int inChannels, int planes, int stride = 1, string name = "basic") : base(name)
    {
        unit1 = new ConvUnit(inChannels, planes, stride, "unit1");
        unit2 = new ConvUnit(planes, planes, 1, "unit2");
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x) => unit2.forward(unit1.forward(x));
}

/// <summary>ResNet-50 branch: 1x1 reduce, 3x3, 1x1 expand by 4 (pre-activation).</summary>
public sealed class Bottleneck : Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn1, bn2, bn3;
    private readonly Conv2d reduce, conv, expand;

    /// <summary>Output channels per input plane count.</summary>
    public const int Expansion = 4;

    /// <summary>Creates the branch; output channels are 4 x <paramref name="planes"/>.</summary>
    public Bottleneck(int inChannels, int planes, int stride = 1, string name = "bottleneck") : base(name)
    {
        bn1 = BatchNorm2d(inChannels);
        reduce = Conv2d(inChannels, planes, 1, bias: false);
        bn2 = BatchNorm2d(planes);
        conv = Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false);
        bn3 = BatchNorm2d(planes);
        expand = Conv2d(planes, planes * Expansion, 1, bias: false);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        var h = reduce.forward(functional.relu(bn1.forward(x)));
        h = conv.forward(functional.relu(bn2.forward(h)));
        return expand.forward(functional.relu(bn3.forward(h)));
    }
}
