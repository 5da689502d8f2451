using Mhc.Samples.Data;

namespace Mhc.Samples.Tests.Data;

public class DataPathsTests
{
    [Fact]
    public void OverrideWins()
    {
        using var dir = new TempDirectory();

        Assert.Equal(dir.Path, DataPaths.ResolveDataRoot(dir.Path, "/nonexistent/start"));
    }

    [Fact]
    public void WalksUpToTheFolderWithTheSolution()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("Mhc.sln"), "");
        string deep = Directory.CreateDirectory(Path.Combine(dir.Path, "samples", "X", "bin", "Release")).FullName;

        Assert.Equal(Path.Combine(dir.Path, "data"), DataPaths.ResolveDataRoot(null, deep));
        Assert.Equal(Path.Combine(dir.Path, "data"), DataPaths.ResolveDataRoot("  ", deep));
    }

    [Fact]
    public void NoSolutionAboveGivesAnErrorNamingTheVariable()
    {
        using var dir = new TempDirectory();

        // The temp folder is not inside a checkout, so the walk finds nothing.
        var ex = Assert.Throws<DirectoryNotFoundException>(() => DataPaths.ResolveDataRoot(null, dir.Path));
        Assert.Contains("MHC_DATA", ex.Message);
    }

    [Fact]
    public void TestsRunInsideTheRepository()
    {
        Assert.NotNull(DataPaths.FindRepositoryRoot(AppContext.BaseDirectory));
    }

    [Fact]
    public void RequireAcceptsAlternativesAndReportsWhatIsMissing()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(dir.Path, "fashion-mnist"));
        File.WriteAllText(Path.Combine(dir.Path, "fashion-mnist", "a"), "x");

        Assert.Equal(Path.Combine(dir.Path, "fashion-mnist"), DataPaths.Require("fashion-mnist", dir.Path, "a.gz|a"));
        var ex = Assert.Throws<DataMissingException>(() => DataPaths.Require("fashion-mnist", dir.Path, "a", "b.gz|b"));
        Assert.Equal(new[] { "b.gz|b" }, ex.Missing);
        Assert.Contains("bash build/get-data.sh fashion-mnist", ex.Message);
    }
}
