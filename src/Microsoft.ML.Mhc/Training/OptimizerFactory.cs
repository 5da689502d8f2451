using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Training;

/// <summary>Builds AdamW with weight decay on weight matrices and kernels only.</summary>
internal static class OptimizerFactory
{
    /// <summary>
    /// Whether a parameter is decayed: tensors of rank 2 or more whose name has no "bias". That spares
    /// biases, normalisation scales, hyper-connection gates (rank 1) and the mixing biases, including
    /// the n x n H_res bias, whose decay would pull the residual mixing towards uniform.
    /// </summary>
    public static bool IsDecayed(string name, Parameter parameter) =>
        parameter.dim() >= 2 && !name.Contains("bias", StringComparison.OrdinalIgnoreCase);

    /// <summary>AdamW over the trainable parameters of <paramref name="module"/>.</summary>
    public static AdamW AdamW(nn.Module module, double learningRate, double weightDecay)
    {
        var named = module.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        var decay = named.Where(p => IsDecayed(p.name, p.parameter)).Select(p => p.parameter).ToList();
        var keep = named.Where(p => !IsDecayed(p.name, p.parameter)).Select(p => p.parameter).ToList();
        var groups = new List<AdamW.ParamGroup>();
        if (decay.Count > 0) groups.Add(new AdamW.ParamGroup(decay, Options(learningRate, weightDecay)));
        if (keep.Count > 0) groups.Add(new AdamW.ParamGroup(keep, Options(learningRate, 0)));
        return optim.AdamW(groups, learningRate, weight_decay: weightDecay);
    }

    // Every field set: a group's unset (null) option is not reliably filled from the optimizer defaults.
    private static AdamW.Options Options(double learningRate, double weightDecay) => new()
    {
        LearningRate = learningRate,
        InitialLearningRate = learningRate,
        beta1 = 0.9,
        beta2 = 0.999,
        eps = 1e-8,
        weight_decay = weightDecay,
        amsgrad = false,
        maximize = false,
    };
}
