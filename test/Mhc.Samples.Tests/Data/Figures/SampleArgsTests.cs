using Mhc.Samples.Figures;

namespace Mhc.Samples.Tests.Figures;

public class SampleArgsTests
{
    [Fact]
    public void ParsesTheStandardOptions()
    {
        var a = SampleArgs.Parse(["--quick", "--json", "out/f.json", "--out=runs", "--connection", "mhc", "--dataset", "fashion-mnist", "--budget-minutes", "2.5"]);

        Assert.True(a.Quick);
        Assert.False(a.Help);
        Assert.Equal("out/f.json", a.JsonPath);
        Assert.Equal("runs", a.OutDirectory);
        Assert.Equal("mhc", a.Connection);
        Assert.Equal("fashion-mnist", a.Dataset);
        Assert.Equal(2.5, a.BudgetMinutes);
    }

    [Fact]
    public void DefaultsAreUnset()
    {
        var a = SampleArgs.Parse([]);

        Assert.False(a.Quick);
        Assert.Null(a.JsonPath);
        Assert.Null(a.BudgetMinutes);
        Assert.False(a.Has("out"));
    }

    [Fact]
    public void UnknownOptionListsTheKnownOnes()
    {
        var ex = Assert.Throws<ArgumentException>(() => SampleArgs.Parse(["--quik"]));

        Assert.Contains("Unknown option '--quik'", ex.Message);
        Assert.Contains("--quick", ex.Message);
        Assert.Contains("--budget-minutes N", ex.Message);
    }

    [Theory]
    [InlineData(new[] { "--json" }, "needs a value")]
    [InlineData(new[] { "--json", "--quick" }, "needs a value")]
    [InlineData(new[] { "--quick", "--quick" }, "more than once")]
    [InlineData(new[] { "--quick=yes" }, "takes no value")]
    [InlineData(new[] { "positional" }, "Unexpected argument 'positional'")]
    [InlineData(new[] { "--budget-minutes", "-3" }, "positive number")]
    [InlineData(new[] { "--budget-minutes", "soon" }, "positive number")]
    public void BadCommandLinesFailClearly(string[] args, string expected)
    {
        var ex = Assert.Throws<ArgumentException>(() => SampleArgs.Parse(args));

        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void SampleSpecificOptionsAreAcceptedAndListed()
    {
        var a = SampleArgs.Parse(["--epochs", "4", "--plot"], new SampleOption("epochs", "N", "training epochs"), new SampleOption("plot", null, "draw plots"));

        Assert.Equal("4", a.GetValue("epochs"));
        Assert.True(a.Has("plot"));
        Assert.Contains("--epochs N", a.Usage("demo"));
        Assert.Throws<ArgumentException>(() => a.GetValue("nope"));
        Assert.Throws<ArgumentException>(() => SampleArgs.Parse([], new SampleOption("quick", null, "clash")));
    }
}
