using Xmc.Models.IO;
using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Training.Data;

namespace Xmc.Tests.Training;

public sealed class DatasetCacheTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("xmc-cache-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Cached(XmcDataset data)
    {
        string path = Path.Combine(_folder, $"{Guid.NewGuid():N}.xmcc");
        DatasetCache.Write(data, path);
        return path;
    }

    [Property(MaxTest = 30)]
    public bool Write_then_read_gives_the_same_data_set(int seed, bool withTexts)
    {
        var data = RandomDatasets.Make(seed, withTexts);
        return DatasetCache.Read(Cached(data)).ContentEquals(data);
    }

    [Fact]
    public void Synthetic_set_round_trips_and_leaves_no_temp_file()
    {
        var (train, _) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 300, TestPoints = 0, Features = 200, Labels = 50 });
        var path = Cached(train);
        Assert.True(DatasetCache.Read(path).ContentEquals(train));
        Assert.Single(Directory.GetFiles(_folder));
    }

    // Any single flipped byte, anywhere, must be caught: by the magic, version or count checks in the
    // header, else by the checksum.
    [Property(MaxTest = 40)]
    public bool Any_flipped_byte_is_detected(int seed, PositiveInt where, byte mask)
    {
        var path = Cached(RandomDatasets.Make(seed, withTexts: true));
        var bytes = File.ReadAllBytes(path);
        bytes[where.Get % bytes.Length] ^= (byte)(mask | 1);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<XmcDataException>(() => DatasetCache.Read(path));
        return e.Message.StartsWith(path + ": ", StringComparison.Ordinal);
    }

    [Property(MaxTest = 30)]
    public bool Truncation_anywhere_is_detected(int seed, PositiveInt keep)
    {
        var path = Cached(RandomDatasets.Make(seed, withTexts: false));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(keep.Get % bytes.Length)]);
        var e = Assert.Throws<XmcDataException>(() => DatasetCache.Read(path));
        return e.Message.Contains("truncated") || e.Message.Contains("too short");
    }

    [Fact]
    public void Other_version_says_which_and_to_rebuild()
    {
        var path = Cached(RandomDatasets.Make(3, withTexts: false));
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), 7);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<XmcDataException>(() => DatasetCache.Read(path));
        Assert.Equal($"{path}: data cache format version 7; this build reads version 1. Rebuild the cache from the original data files", e.Message);
    }

    [Fact]
    public void Foreign_and_missing_files_are_data_errors()
    {
        string foreign = Path.Combine(_folder, "train.txt");
        File.WriteAllText(foreign, new string('1', 500));
        Assert.Contains("not an XmcEngine data cache", Assert.Throws<XmcDataException>(() => DatasetCache.Read(foreign)).Message);
        string empty = Path.Combine(_folder, "empty");
        File.WriteAllBytes(empty, []);
        Assert.Contains("the file is empty", Assert.Throws<XmcDataException>(() => DatasetCache.Read(empty)).Message);
        File.WriteAllBytes(empty, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<XmcDataException>(() => DatasetCache.Read(empty)).Message);
        Assert.Contains("file not found", Assert.Throws<XmcDataException>(() => DatasetCache.Read(Path.Combine(_folder, "nope"))).Message);
    }

    [Fact]
    public void Failed_write_keeps_the_old_file()
    {
        var data = RandomDatasets.Make(5, withTexts: false);
        var path = Cached(data);
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100]);
            throw new IOException("disk full");
        }));
        Assert.True(DatasetCache.Read(path).ContentEquals(data));
        Assert.Single(Directory.GetFiles(_folder));
    }
}
