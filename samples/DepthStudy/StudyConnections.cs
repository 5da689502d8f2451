using Mhc.Models.Layers;
using Mhc.Samples.Networks;

namespace DepthStudy;

/// <summary>The connections the study can compare, by the names used on the command line and in the JSON.</summary>
public static class StudyConnections
{
    /// <summary>The four the issue asks for, in this order.</summary>
    public static IReadOnlyList<string> Default { get; } = ["residual", "hc", "mhc", "history"];

    /// <summary>Every name <see cref="Create"/> knows, with what it is.</summary>
    public static IReadOnlyDictionary<string, string> Known { get; } = new Dictionary<string, string>
    {
        ["residual"] = "x + F(x), one stream",
        ["hc"] = "Hyper-Connections, n streams, the library's HC init",
        ["mhc"] = "mHC with the library's defaults (identity-like init, logit bound 4)",
        ["mhc-paper"] = "mHC as the paper writes it (HyperConnectionPresets.PaperExact)",
        ["mhc-nobound"] = "mHC default init without the logit bound",
        ["mhc-paperinit"] = "mHC paper init (zero biases) with the logit bound 4",
        ["history"] = "history-window skip, the library's defaults (H = 4, identity-preserving, floor 0.5)",
        ["history-stable"] = "history-window skip, the mhc package's 'stable' preset",
        ["history-aggressive"] = "history-window skip, the mhc package's 'aggressive' preset",
        ["history-research"] = "history-window skip, the mhc package's 'research' preset",
    };

    /// <summary>The connection called <paramref name="name"/> with <paramref name="streams"/> streams for HC/mHC.</summary>
    public static DeepStackConnection Create(string name, int streams)
    {
        switch (name)
        {
            case "residual": return DeepStackConnection.For(ConnectionKind.Residual);
            case "hc": return DeepStackConnection.For(ConnectionKind.Hc, streams);
            case "mhc": return DeepStackConnection.For(ConnectionKind.Mhc, streams);
            case "mhc-paper": return new(name, HyperConnectionPresets.PaperExact(1, streams), null);
            case "mhc-nobound":
                var noBound = HyperConnectionPresets.Default(1, streams);
                noBound.Mixing = noBound.Mixing with { ResidualLogitBound = null };
                return new(name, noBound, null);
            case "mhc-paperinit":
                var paperInit = HyperConnectionPresets.Default(1, streams);
                paperInit.Mixing = paperInit.Mixing with { Init = MixingInit.Paper };
                return new(name, paperInit, null);
            case "history": return DeepStackConnection.Skip(name, new HistoryWindowSkipOptions());
            default:
                if (name.StartsWith("history-", StringComparison.Ordinal) && HistoryWindowSkipPresets.Names.Contains(name["history-".Length..]))
                    return DeepStackConnection.Skip(name, HistoryWindowSkipPresets.Get(name["history-".Length..]));
                throw new ArgumentException($"Unknown connection '{name}'; known: {string.Join(", ", Known.Keys)}.");
        }
    }
}
