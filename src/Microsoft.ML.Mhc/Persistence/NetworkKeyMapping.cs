using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Microsoft.ML.Mhc.Persistence;

/// <summary>Input of <see cref="NetworkKeyMapping"/>: no columns.</summary>
internal sealed class NetworkKeyInput
{
}

/// <summary>Output of <see cref="NetworkKeyMapping"/>: the constant lookup key of the network blob.</summary>
internal sealed class NetworkKeyOutput
{
    /// <summary>Always <see cref="NetworkKeyMapping.Key"/>.</summary>
    [ColumnName(SavedScoringChain.KeyColumn)]
    public ReadOnlyMemory<char> Key;
}

/// <summary>
/// A saved-model building block: emits the constant text <see cref="Key"/> on every row, which a stock
/// <c>MapValue</c> then maps to the serialized network (the only place a saved pipeline can carry it).
/// </summary>
/// <remarks>Registered by contract name; ML.NET finds it again in a fresh process when loading a model.</remarks>
[CustomMappingFactoryAttribute(ContractName)]
internal sealed class NetworkKeyMapping : CustomMappingFactory<NetworkKeyInput, NetworkKeyOutput>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "Microsoft.ML.Mhc.NetworkKey";

    /// <summary>The constant lookup key.</summary>
    public const string Key = "mhc-network";

    private static readonly ReadOnlyMemory<char> KeyMemory = Key.AsMemory();

    /// <inheritdoc />
    public override Action<NetworkKeyInput, NetworkKeyOutput> GetMapping() => Map;

    internal static void Map(NetworkKeyInput input, NetworkKeyOutput output) => output.Key = KeyMemory;
}
