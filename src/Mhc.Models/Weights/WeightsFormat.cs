namespace Mhc.Models.Weights;

/// <summary>The file formats <see cref="ModuleWeights"/> reads and writes a network's state_dict in.</summary>
public enum WeightsFormat
{
    /// <summary>Hugging Face safetensors (<c>.safetensors</c>): a JSON header and raw little-endian data; no code runs on load. The default.</summary>
    Safetensors,

    /// <summary>PyTorch's <c>torch.save(model.state_dict())</c> zip format (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>).</summary>
    PyTorch,
}
