using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using Mhc.Models.Segmentation;
using Mhc.Models.Transformers;

namespace Mhc.Models.Tests.Layers;

public class MixingSettingsTests
{
    private static readonly JsonSerializerOptions StringEnums = new() { Converters = { new JsonStringEnumConverter() } };

    [Fact]
    public void LegacyFlatUNetOptions_AreReadIntoTheRecord_PlainBecomesResidual()
    {
        var node = JsonNode.Parse("""
            {"InChannels":1,"NumClasses":3,"Depth":2,"Connection":"Plain","ExpansionRate":2,"MaxHistory":2,
             "SkipConstraint":"Simplex","DynamicMixing":false,"Init":"Paper","EffectiveStreams":1}
            """)!.AsObject();
        LegacyOptionsJson.Upgrade(node);
        var o = node.Deserialize<HyperUNetOptions>(StringEnums)!;
        Assert.Equal(new MixingSettings
        {
            Connection = ConnectionKind.Residual, ExpansionRate = 2, DynamicMixing = false, Init = MixingInit.Paper,
            Constraint = ConstraintKind.Simplex,
        }, o.Mixing);
        Assert.Equal(2, o.MaxHistory);
        Assert.Equal(1, o.Mixing.Streams);
    }

    [Fact]
    public void LegacyNumericEnums_AndCurrentOptions_Read()
    {
        // The decoder's options were saved with numeric enums (2 = Mhc).
        var node = JsonNode.Parse("""
            {"VocabSize":7,"Dim":16,"Layers":1,"Heads":2,"MlpRatio":2,"Dropout":0,"ExpansionRate":3,"Connection":1,"DynamicMixing":false}
            """)!.AsObject();
        LegacyOptionsJson.Upgrade(node);
        var o = node.Deserialize<HyperDecoderTransformerOptions>()!;
        Assert.Equal(new TransformerSettings { Dim = 16, Layers = 1, Heads = 2, MlpRatio = 2, Dropout = 0 }, o.Transformer);
        // The blocks keep the parameter names of weights saved before the trunk was a HyperSequential.
        using var net = new HyperDecoderTransformer(o);
        Assert.Contains(net.named_parameters(), p => p.name.StartsWith("blocks.0.attention.branch.", StringComparison.Ordinal));
        Assert.Equal(2, net.HyperConnections.Count);
        Assert.Equal(ConnectionKind.Hc, o.Mixing.Connection);
        Assert.Equal(3, o.Mixing.Streams);
        Assert.False(o.Mixing.DynamicMixing);

        var current = new HyperDecoderTransformerOptions { VocabSize = 7, Mixing = new() { ExpansionRate = 2, SinkhornIterations = 5 } };
        var saved = JsonSerializer.SerializeToNode(current)!.AsObject();
        LegacyOptionsJson.Upgrade(saved);
        Assert.Equal(current.Mixing, saved.Deserialize<HyperDecoderTransformerOptions>()!.Mixing);
    }

    [Fact]
    public void ToConnection_CarriesEverySetting()
    {
        var m = new MixingSettings
        {
            Connection = ConnectionKind.Hc, ExpansionRate = 3, DynamicMixing = false, Init = MixingInit.Paper,
            Sinkhorn = SinkhornVariant.SoftmaxFirst, SinkhornIterations = 7, ResidualLogitBound = null,
        };
        var c = m.ToConnection(8, StreamFeatureLayout.ChannelsFirst, DynamicGranularity.PerSample);
        Assert.Equal((8, 3, ConnectionKind.Hc, false, MixingInit.Paper), (c.Dim, c.Streams, c.Mixing.Connection, c.Mixing.DynamicMixing, c.Mixing.Init));
        Assert.Equal((SinkhornVariant.SoftmaxFirst, 7, (double?)null), (c.Mixing.Sinkhorn, c.Mixing.SinkhornIterations, c.Mixing.ResidualLogitBound));
        Assert.Equal((StreamFeatureLayout.ChannelsFirst, DynamicGranularity.PerSample), (c.Layout, c.Granularity));
        Assert.Equal(1, (m with { Connection = ConnectionKind.Residual }).ToConnection(8, StreamFeatureLayout.ChannelsLast).Streams);
        Assert.Equal(ConstraintKind.None, m.EffectiveConstraint);
    }
}
