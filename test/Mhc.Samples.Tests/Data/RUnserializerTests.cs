using System.Text;
using Mhc.Samples.Data;

namespace Mhc.Samples.Tests.Data;

public class RUnserializerTests
{
    [Fact]
    public void CharacterVectorKeepsNaAndDecodesEachEncoding()
    {
        var bytes = XdrBuilder.Version3()
            .Flags(16).Int(4)
            .CharSxp("Élan", XdrBuilder.Utf8)
            .CharSxp("café", XdrBuilder.Latin1, Encoding.Latin1)
            .CharSxp(null)
            .CharSxp("plain", XdrBuilder.Ascii)
            .ToArray();

        var v = Assert.IsType<RCharacterVector>(RUnserializer.Unserialize(bytes));

        Assert.Equal(new string?[] { "Élan", "café", null, "plain" }, v.Values);
    }

    [Fact]
    public void UnflaggedStringsUseTheStreamsNativeEncoding()
    {
        var stream = XdrBuilder.Version3("latin1").Flags(16).Int(1).CharSxp("naïve", levels: 0, Encoding.Latin1).ToArray();

        Assert.Equal("naïve", Assert.IsType<RCharacterVector>(RUnserializer.Unserialize(stream)).Values[0]);
    }

    [Fact]
    public void NumericVectorsAndLogicalNaRoundTrip()
    {
        var bytes = XdrBuilder.Version2()
            .Flags(19).Int(3)
            .Flags(13).Int(3).Int(7).Int(int.MinValue).Int(-2)
            .Flags(14).Int(2).Double(1.5).Double(-0.25)
            .Flags(10).Int(3).Int(1).Int(0).Int(int.MinValue)
            .ToArray();

        var list = Assert.IsType<RList>(RUnserializer.Unserialize(bytes));

        Assert.Equal(new[] { 7, RIntegerVector.NA, -2 }, Assert.IsType<RIntegerVector>(list.Values[0]).Values);
        Assert.Equal(new[] { 1.5, -0.25 }, Assert.IsType<RDoubleVector>(list.Values[1]).Values);
        Assert.Equal(new bool?[] { true, false, null }, Assert.IsType<RLogicalVector>(list.Values[2]).Values);
    }

    [Fact]
    public void AttributesTagsAndSymbolReferencesResolve()
    {
        // list(a = 1L, b = list(c = 2L)): the second "names" tag is a back-reference to symbol 1.
        var bytes = XdrBuilder.Version3()
            .Flags(19, XdrBuilder.HasAttr).Int(2)
            .Flags(13).Int(1).Int(1)
            .Flags(19, XdrBuilder.HasAttr).Int(1)
            .Flags(13).Int(1).Int(2)
            .Flags(2, XdrBuilder.HasTag).Symbol("names").Strings("c").Nil()
            .Flags(2, XdrBuilder.HasTag).Ref(1).Strings("a", "b").Nil()
            .ToArray();

        var list = Assert.IsType<RList>(RUnserializer.Unserialize(bytes));

        Assert.Equal(new[] { "a", "b" }, list.Names);
        Assert.Equal(new[] { 1 }, Assert.IsType<RIntegerVector>(list["a"]).Values);
        var inner = Assert.IsType<RList>(list["b"]);
        Assert.Equal(new[] { "c" }, inner.Names);
        Assert.Equal(new[] { 2 }, Assert.IsType<RIntegerVector>(inner["c"]).Values);
        Assert.Null(list["missing"]);
    }

    [Fact]
    public void PairlistKeepsOrderTagsAndMultipleAttributes()
    {
        // pairlist(x = "u", 3L) with attributes names + class on a character vector inside.
        var bytes = XdrBuilder.Version3()
            .Flags(2, XdrBuilder.HasTag).Symbol("x")
                .Flags(16, XdrBuilder.HasAttr).Int(1).CharSxp("u")
                .Flags(2, XdrBuilder.HasTag).Symbol("class").Strings("myclass")
                .Flags(2, XdrBuilder.HasTag).Symbol("comment").Strings("hi").Nil()
            .Flags(2).Flags(13).Int(1).Int(3)
            .Nil()
            .ToArray();

        var pairs = Assert.IsType<RPairList>(RUnserializer.Unserialize(bytes));

        Assert.Equal(2, pairs.Entries.Count);
        Assert.Equal("x", pairs.Entries[0].Tag);
        Assert.Null(pairs.Entries[1].Tag);
        var x = Assert.IsType<RCharacterVector>(pairs["x"]);
        Assert.Equal(new[] { "myclass" }, Assert.IsType<RCharacterVector>(x.Attribute("class")).Values);
        Assert.Equal(new[] { "hi" }, Assert.IsType<RCharacterVector>(x.Attribute("comment")).Values);
        Assert.Null(pairs.Tail);
    }

    [Fact]
    public void LongVectorLengthIsDecoded()
    {
        var bytes = XdrBuilder.Version3().Flags(13).Int(-1).Int(0).Int(2).Int(5).Int(6).ToArray();

        Assert.Equal(new[] { 5, 6 }, Assert.IsType<RIntegerVector>(RUnserializer.Unserialize(bytes)).Values);
    }

    [Fact]
    public void CompactIntegerSequenceAltrepIsExpanded()
    {
        // 3:6 as R >= 3.5 writes it: ALTREP_SXP, info pairlist(class, package, type), state c(n, first, step), attributes.
        var bytes = XdrBuilder.Version3()
            .Int(238)
            .Flags(2).Symbol("compact_intseq")
            .Flags(2).Symbol("base")
            .Flags(2).Flags(13).Int(1).Int(13).Nil()
            .Flags(14).Int(3).Double(4).Double(3).Double(1)
            .Nil()
            .ToArray();

        Assert.Equal(new[] { 3, 4, 5, 6 }, Assert.IsType<RIntegerVector>(RUnserializer.Unserialize(bytes)).Values);
    }

    [Fact]
    public void UnsupportedTypeFailsNamingTheType()
    {
        var closure = XdrBuilder.Version3().Flags(3).ToArray();
        var global = XdrBuilder.Version3().Int(253).ToArray();

        var ex = Assert.Throws<NotSupportedException>(() => RUnserializer.Unserialize(closure));
        Assert.Contains("CLOSXP", ex.Message);
        Assert.Contains("GLOBALENV_SXP", Assert.Throws<NotSupportedException>(() => RUnserializer.Unserialize(global)).Message);
    }

    [Fact]
    public void TruncatedStreamAndWrongHeaderFailClearly()
    {
        var full = XdrBuilder.Version3().Flags(13).Int(3).Int(1).Int(2).Int(3).ToArray();
        var truncated = full[..^2];

        Assert.Contains("ends at byte", Assert.Throws<InvalidDataException>(() => RUnserializer.Unserialize(truncated)).Message);
        Assert.Contains("ASCII", Assert.Throws<NotSupportedException>(() => RUnserializer.Unserialize("A\n3\n"u8.ToArray())).Message);
        Assert.Contains("decompressed", Assert.Throws<InvalidDataException>(() => RUnserializer.Unserialize([0x1f, 0x8b, 0, 0])).Message);
        var v4 = XdrBuilder.Version2().ToArray();
        v4[5] = 4;
        Assert.Contains("version 4", Assert.Throws<NotSupportedException>(() => RUnserializer.Unserialize(v4)).Message);
    }

    [Fact]
    public void ParsesGenuineJaneaustenrIndex()
    {
        // The uncompressed Rdata.rdx of Debian's r-cran-janeaustenr 1.0.0 (written by R 4.2),
        // so the reader is checked against real R output, not only against our own writer.
        var bytes = Convert.FromHexString(
            "580a000000030004020100030500000000055554462d38000002130000000300000213000000060000000d00000002000000" +
            "0000055f2b0000000d0000000200055f2b00055c8d0000000d00000002000abbb80002ac5c0000000d00000002000d681400" +
            "02d32a0000000d0000000200103b3e000422bd0000000d0000000200145dfb0004113c000004020000000100040009000000" +
            "056e616d657300000010000000060004000900000004656d6d61000400090000000d6d616e736669656c647061726b000400" +
            "090000000f6e6f727468616e6765726162626579000400090000000a70657273756173696f6e000400090000000e70726964" +
            "657072656a7564696365000400090000001073656e736573656e736962696c697479000000fe000002130000000000000402" +
            "000001ff0000001000000000000000fe0000000a000000010000000100000402000001ff0000001000000003000400090000" +
            "00097661726961626c6573000400090000000a7265666572656e636573000400090000000a636f6d70726573736564000000" +
            "fe");

        var index = Assert.IsType<RList>(RUnserializer.Unserialize(bytes));

        Assert.Equal(new[] { "variables", "references", "compressed" }, index.Names);
        var variables = Assert.IsType<RList>(index["variables"]);
        Assert.Equal(new[] { "emma", "mansfieldpark", "northangerabbey", "persuasion", "prideprejudice", "sensesensibility" }, variables.Names);
        Assert.Equal(new[] { 0, 0x55f2b }, Assert.IsType<RIntegerVector>(variables["emma"]).Values);
        Assert.Equal(new[] { 0x145dfb, 0x4113c }, Assert.IsType<RIntegerVector>(variables["sensesensibility"]).Values);
        Assert.Empty(Assert.IsType<RList>(index["references"]).Values);
        Assert.Equal(new bool?[] { true }, Assert.IsType<RLogicalVector>(index["compressed"]).Values);
    }
}
