using Mhc.Models.Constraints;
using Mhc.Models.Layers;
using Microsoft.ML.Mhc.ImageClassification;
using Microsoft.ML.Mhc.Segmentation;

namespace Microsoft.ML.Mhc.Tests;

/// <summary>The trainers' options embed the networks' <see cref="MixingSettings"/>; saved specs of the flat form still load.</summary>
public class MixingSettingsOptionsTests
{
    [Fact]
    public void SweptMembers_WriteACopyOfTheRecord_SoShallowCopiesStayApart()
    {
        var a = new MhcSegmentationTrainer.Options();
        Assert.Equal(new MixingSettings { ExpansionRate = 2, DynamicMixing = false }, a.Mixing);
        var shared = a.Mixing;
        a.ExpansionRate = 4;
        a.SkipConstraint = ConstraintKind.Simplex;
        a.Connection = ConnectionKind.Hc;
        Assert.Equal(2, shared.ExpansionRate);
        Assert.Equal((ConnectionKind.Hc, 4, ConstraintKind.Simplex), (a.Mixing.Connection, a.Mixing.ExpansionRate, a.Mixing.Constraint));
        Assert.Same(a.Mixing, a.ToNetworkOptions(3).Mixing);
    }

    [Fact]
    public void ImageClassifierSpec_SavedWithFlatMixingSettings_Loads()
    {
        const string old = """
            {"Architecture":"HyperResNet","Channels":1,"ImageHeight":28,"ImageWidth":28,"NumClasses":10,
             "HyperResNet":{"InChannels":1,"NumClasses":10,"ImageHeight":28,"ImageWidth":28,"StageDepths":[1],"BaseWidth":8,
             "Block":"Basic","Connection":"Hc","ExpansionRate":2,"DynamicMixing":false,"Init":"Paper","EffectiveStreams":2}}
            """;
        var spec = ImageClassifierSpec.FromJson(old);
        Assert.Equal(new MixingSettings { Connection = ConnectionKind.Hc, ExpansionRate = 2, DynamicMixing = false, Init = MixingInit.Paper },
            spec.HyperResNet!.Mixing);
        Assert.Equal(spec.HyperResNet.Mixing, ImageClassifierSpec.FromJson(spec.ToJson()).HyperResNet!.Mixing);
    }
}
