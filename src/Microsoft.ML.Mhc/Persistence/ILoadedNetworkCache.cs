namespace Microsoft.ML.Mhc.Persistence;

/// <summary>A <see cref="LoadedNetworkCache{TNetwork}"/> seen without its network type, so a model can be released by its blob alone.</summary>
internal interface ILoadedNetworkCache
{
    /// <summary>The kind of network the cache decodes (the <see cref="SerializedNetwork.Kind"/> it accepts).</summary>
    string Kind { get; }

    /// <summary>Frees the network decoded for <paramref name="blob"/>, if any; see <see cref="LoadedNetworkCache{TNetwork}.Release"/>.</summary>
    bool Release(ReadOnlyMemory<char> blob);
}
