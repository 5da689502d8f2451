using Mhc.Samples.Data;

namespace Mhc.Samples.Tests.Data;

public class RLazyLoadDatabaseTests
{
    private static readonly string[] PrideLines = ["PRIDE AND PREJUDICE", "", "It is a truth universally acknowledged,"];
    private static readonly string[] AbbeyLines = ["NORTHANGER ABBEY", "No one who had ever seen Catherine Morland"];

    private static void WriteAustenLike(TempDirectory dir)
    {
        LazyLoadDatabaseBuilder.Write(dir.File("Rdata.rdx"), dir.File("Rdata.rdb"),
        [
            ("northangerabbey", XdrBuilder.Version3().Strings(AbbeyLines).ToArray()),
            ("numbers", XdrBuilder.Version3().Flags(13).Int(2).Int(4).Int(5).ToArray()),
            ("prideprejudice", XdrBuilder.Version3().Strings(PrideLines).ToArray()),
        ]);
    }

    [Fact]
    public void LoadsEveryObjectFromItsBlock()
    {
        using var dir = new TempDirectory();
        WriteAustenLike(dir);

        var db = RLazyLoadDatabase.Open(dir.File("Rdata.rdx"));

        Assert.Equal(new[] { "northangerabbey", "numbers", "prideprejudice" }, db.VariableNames);
        Assert.Equal(AbbeyLines, Assert.IsType<RCharacterVector>(db.Load("northangerabbey")).Values);
        Assert.Equal(new[] { 4, 5 }, Assert.IsType<RIntegerVector>(db.Load("numbers")).Values);
        Assert.Equal(PrideLines, Assert.IsType<RCharacterVector>(db.Load("prideprejudice")).Values);
    }

    [Fact]
    public void UnknownObjectListsTheAvailableOnes()
    {
        using var dir = new TempDirectory();
        WriteAustenLike(dir);
        var db = RLazyLoadDatabase.Open(dir.File("Rdata.rdx"));

        var ex = Assert.Throws<KeyNotFoundException>(() => db.Load("emma"));

        Assert.Contains("emma", ex.Message);
        Assert.Contains("northangerabbey, numbers, prideprejudice", ex.Message);
    }

    [Fact]
    public void CorruptBlockFailsNamingTheObject()
    {
        using var dir = new TempDirectory();
        WriteAustenLike(dir);
        var rdb = File.ReadAllBytes(dir.File("Rdata.rdb"));
        for (int i = 6; i < 16; i++)
        {
            rdb[i] ^= 0x5a; // Inside the first block's zlib payload.
        }

        File.WriteAllBytes(dir.File("Rdata.rdb"), rdb);
        var db = RLazyLoadDatabase.Open(dir.File("Rdata.rdx"));

        var ex = Assert.ThrowsAny<InvalidDataException>(() => db.Load("northangerabbey"));
        Assert.Contains("northangerabbey", ex.Message);
    }

    [Fact]
    public void BlockLengthMismatchIsDetected()
    {
        var block = LazyLoadDatabaseBuilder.ZlibBlock([1, 2, 3, 4, 5]);
        block[3] = 9; // Header now claims 9 bytes.

        var ex = Assert.Throws<InvalidDataException>(() => RLazyLoadDatabase.DecompressBlock(block, 1, "test"));
        Assert.Contains("header says 9", ex.Message);
    }

    [Fact]
    public void JaneAustenJoinsLinesWithNewlines()
    {
        using var dir = new TempDirectory();
        WriteAustenLike(dir);

        string book = JaneAusten.LoadBook("prideprejudice", dir.Path);
        var (train, validation) = JaneAusten.TrainValidation(["prideprejudice", "northangerabbey"], 0.5, dir.Path);

        Assert.Equal(string.Join('\n', PrideLines), book);
        string abbey = string.Join('\n', AbbeyLines);
        int prideCut = (int)Math.Round(book.Length * 0.5, MidpointRounding.AwayFromZero);
        int abbeyCut = (int)Math.Round(abbey.Length * 0.5, MidpointRounding.AwayFromZero);
        Assert.Equal(book[..prideCut] + "\n\n" + abbey[..abbeyCut], train);
        Assert.Equal(book[prideCut..] + "\n\n" + abbey[abbeyCut..], validation);
    }

    [Fact]
    public void JaneAustenRejectsNonTextObjects()
    {
        using var dir = new TempDirectory();
        WriteAustenLike(dir);

        var ex = Assert.Throws<InvalidDataException>(() => JaneAusten.LoadBook("numbers", dir.Path));
        Assert.Contains("expected a character vector", ex.Message);
    }

    [Fact]
    public void MissingAustenFilesPointToTheFetchScript()
    {
        using var dir = new TempDirectory();

        var ex = Assert.Throws<DataMissingException>(() => JaneAusten.LoadBook("emma", dir.Path));

        Assert.Contains("bash build/get-data.sh austen", ex.Message);
        Assert.Equal(new[] { "Rdata.rdx", "Rdata.rdb" }, ex.Missing);
    }
}
