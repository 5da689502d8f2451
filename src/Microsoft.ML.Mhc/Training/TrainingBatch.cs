using static TorchSharp.torch;

namespace Microsoft.ML.Mhc.Training;

/// <summary>One mini-batch on the training device. Its tensors belong to the dispose scope it was created in.</summary>
/// <param name="Input">The network input.</param>
/// <param name="Target">What the loss compares the output with.</param>
/// <param name="Count">Examples in the batch.</param>
internal readonly record struct TrainingBatch(Tensor Input, Tensor Target, int Count);
