namespace Mhc.Models.IO;

/// <summary>
/// Writes a file so that readers see either the old complete file or the new complete one, never a part: the content
/// goes to a hidden temporary file in the same folder (<c>.NAME.PID.GUID.tmp</c>), is flushed to disk, and is then
/// renamed over the target.
/// </summary>
/// <remarks>
/// <para>Atomic: replacing the target. If writing fails (a full disk, an exception from <c>write</c>, cancellation), the
/// old file is left byte for byte as it was, or no file is created, and the temporary file is deleted.</para>
/// <para>Not atomic: a process killed between writing and renaming leaves its temporary file behind (never the target);
/// the folder entry itself is not flushed, so after a power cut the rename may be lost and the old file come back;
/// on Windows the replace is <c>MoveFileEx(REPLACE_EXISTING)</c>, atomic on NTFS in practice but not documented so.</para>
/// </remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically with <paramref name="write"/>, creating its folder; returns the full path.</summary>
    /// <param name="path">The target file.</param>
    /// <param name="write">Writes the whole content to the stream it is given; it must not close it.</param>
    public static string Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
        return full;
    }
}
