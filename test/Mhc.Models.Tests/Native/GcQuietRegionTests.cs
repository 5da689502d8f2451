using Mhc.Models.Native;

namespace Mhc.Models.Tests.Native;

public class GcQuietRegionTests
{
    [Fact]
    public void NoCollectionRunsInsideTheRegion_AndNestedHoldersShareIt()
    {
        Assert.False(GcQuietRegion.IsActive);
        int before;
        using (var outer = GcQuietRegion.Enter())
        {
            Assert.True(GcQuietRegion.IsActive);
            before = GC.CollectionCount(0);
            using (var inner = GcQuietRegion.Enter())
            {
                // About 35 MB of garbage from another thread, as a progress display would make.
                var other = new Thread(() => { for (int i = 0; i < 150_000; i++) GC.KeepAlive(new byte[200]); });
                other.Start();
                other.Join();
            }
            Assert.True(GcQuietRegion.IsActive);
            Assert.Equal(before, GC.CollectionCount(0));
        }
        Assert.False(GcQuietRegion.IsActive);
        default(GcQuietRegion.Lease).Dispose();
        Assert.False(GcQuietRegion.IsActive);
    }

    [Fact]
    public void ConcurrentHolders_LeaveNoRegionBehind()
    {
        Parallel.For(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            using var lease = GcQuietRegion.Enter();
            GC.KeepAlive(new byte[1000]);
        });
        Assert.False(GcQuietRegion.IsActive);
    }
}
