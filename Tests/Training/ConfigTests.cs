using Xmc.Models.Xmc;
using Xmc.Training.Config;
using Xmc.Models.IO;

namespace Xmc.Tests.Training;

public class ConfigTests
{
    [Fact]
    public void Overrides_set_typed_fields()
    {
        var c = ConfigLoader.Load(null, ["optim.batchSize=128", "optim.encoderLr=3e-4", "model.head=dense", "data.train=/tmp/x.txt"]);
        Assert.Equal(128, c.Optim.BatchSize);
        Assert.Equal(3e-4, c.Optim.EncoderLr);
        Assert.Equal(HeadKind.Dense, c.Model.Head);
        Assert.Equal("/tmp/x.txt", c.Data.Train);
    }

    [Fact]
    public void Unknown_field_lists_valid_ones()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["optim.batchsise=1"]));
        Assert.Contains("batchsise", e.Message);
        Assert.Contains("batchSize", e.Message);
    }

    [Fact]
    public void Wrong_type_and_impossible_values_name_the_field()
    {
        var e1 = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["optim.batchSize=many"]));
        Assert.Contains("optim.batchSize", e1.Message);
        var e2 = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["model.fanIn=1000", "model.hidden=64"]));
        Assert.Contains("model.fanIn", e2.Message);
        var e3 = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["run.deviceMemoryLimit=lots"]));
        Assert.Contains("run.deviceMemoryLimit", e3.Message);
        var e4 = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["data.syntheticLabels=100", "data.syntheticTopics=101"]));
        Assert.Contains("data.syntheticTopics", e4.Message);
    }

    [Fact]
    public void Json_round_trip_and_file_errors_carry_position()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        var path = Path.Combine(dir, "c.json");
        var c = ConfigLoader.Load(null, ["optim.epochs=9"]);
        AtomicFile.WriteAllText(path, ConfigLoader.ToJson(c));
        Assert.Equal(9, ConfigLoader.Load(path, []).Optim.Epochs);

        File.WriteAllText(path, "{\n  \"optim\": { \"epochs\": \"x\" }\n}");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, []));
        Assert.StartsWith(path + ":2:", e.Message);
        File.WriteAllText(path, "{ \"optimm\": {} }");
        Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, []));
    }

    [Theory]
    [InlineData("12GiB", 12L << 30)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("1.5GB", 1_500_000_000L)]
    [InlineData("4096", 4096L)]
    public void Byte_sizes_parse(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text).Bytes);

    [Fact]
    public void Atomic_write_keeps_old_file_when_writer_fails()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "f.bin");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.WriteByte(1);
            throw new IOException("disk full");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }
}
