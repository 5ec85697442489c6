using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Xmc.Models;
using Xmc.Models.IO;
using Xmc.Training.Checkpoints;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Evaluation;

namespace Xmc.Tests.Training;

/// <summary>Random damage to a checkpoint that its checksum does not catch (the tensor file edited and the hash
/// recomputed, as a checkpoint written wrong would be; or the JSON edited): loading either fails with a typed
/// error that the command line reports cleanly, or gives a model that keeps its invariants and predicts — never
/// another exception, never a kernel reading outside its buffers.</summary>
[Collection(LedgerCollection.Name)]
public class CheckpointMutationTests
{
    private static readonly Lazy<XmcDataset> Points = new(() =>
        SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 200, TestPoints = 20, Labels = 30, Features = 100, Seed = 2 }).Test!);

    private static readonly Lazy<XmcDataset> BertPoints = new(() =>
        SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 120, TestPoints = 10, Labels = 20, Features = 100, Seed = 3 }).Test!);

    private static bool Clean(Exception e) => e is CheckpointException or SafetensorsFormatException or ConfigException;

    /// <summary>Loads <paramref name="run"/>; true when it failed cleanly or the model it gave is sound and predicts.</summary>
    private static bool LoadsCleanlyOrSoundly(string run)
    {
        SavedPredictor saved;
        try
        {
            saved = SavedPredictor.Open(run);
        }
        catch (Exception e) when (Clean(e))
        {
            return true;
        }
        using (saved)
        {
            var model = TrainedModel.Load(run);
            using (model)
            {
                (model.Model.Head as FixedFanInLinear)?.Validate();
                Assert.All(model.Model.Module.Parameters(), p =>
                    Assert.True(p.DType is not (Xmc.Engine.DType.Float32 or Xmc.Engine.DType.BFloat16) || p.Data.ToFloatArray().All(float.IsFinite), p.Data.Name));
            }
            try
            {
                var (labels, _) = saved.Predict(Points.Value, "points", 3);
                Assert.All(labels, row => Assert.All(row, l => Assert.InRange(l, 0, saved.Labels - 1)));
            }
            catch (XmcDataException)
            {
                // the edited sizes no longer fit the data (fewer features than the points have): a clean refusal
            }
        }
        return true;
    }

    private static Gen<(int Where, byte Value)[]> Edits(int length)
        => Edits(Gen.Choose(0, length - 1));

    private static Gen<(int Where, byte Value)[]> Edits(Gen<int> where)
        => Gen.Choose(1, 4).SelectMany(n => Gen.Zip(where, Gen.Choose(0, 255).Select(b => (byte)b)).ArrayOf(n));

    [Property(MaxTest = 200)]
    public Property Edited_tensor_bytes_with_the_checksum_recomputed_load_cleanly_or_soundly()
    {
        var probe = CheckpointTestRuns.BowCopy();
        int length = (int)new FileInfo(CheckpointTestRuns.TensorPath(probe)).Length;
        // half the edits land in the tensor data, half anywhere (the header included)
        long dataStart = CheckpointTestRuns.Offset(probe, "extra.idf") - 8;
        var where = Gen.OneOf(Gen.Choose(0, length - 1), Gen.Choose((int)Math.Min(dataStart, length - 1), length - 1));
        return Prop.ForAll(Edits(where).ToArbitrary(), e =>
        {
            var run = CheckpointTestRuns.BowCopy();
            CheckpointTestRuns.EditTensors(run, bytes =>
            {
                foreach (var (at, value) in e)
                {
                    bytes[at] = value;
                }
            });
            return LoadsCleanlyOrSoundly(run);
        });
    }

    [Property(MaxTest = 200)]
    public Property Edited_checkpoint_json_loads_cleanly_or_soundly()
    {
        var probe = CheckpointTestRuns.BowCopy();
        int length = File.ReadAllBytes(CheckpointTestRuns.Json(probe)).Length;
        return Prop.ForAll(Edits(length).ToArbitrary(), e =>
        {
            var run = CheckpointTestRuns.BowCopy();
            var json = CheckpointTestRuns.Json(run);
            var bytes = File.ReadAllBytes(json);
            foreach (var (at, value) in e)
            {
                // printable edits mostly: they keep the JSON parseable more often, so the fields' checks are reached
                bytes[at] = value < 128 && value >= 32 ? value : (byte)"0123456789-.e\",:{}[]n"[value % 21];
            }
            File.WriteAllBytes(json, bytes);
            return LoadsCleanlyOrSoundly(run);
        });
    }

    [Property(MaxTest = 60)]
    public Property Edited_bert_run_files_with_their_checksums_recomputed_load_cleanly_or_soundly(bool vocab)
    {
        string name = vocab ? Xmc.Training.Loop.ModelSetup.VocabFile : Xmc.Training.Loop.ModelSetup.BertConfigFile;
        var probe = CheckpointTestRuns.BertCopy();
        int length = (int)new FileInfo(Path.Combine(probe, name)).Length;
        return Prop.ForAll(Edits(length).ToArbitrary(), e =>
        {
            var run = CheckpointTestRuns.BertCopy();
            var path = Path.Combine(run, name);
            var bytes = File.ReadAllBytes(path);
            foreach (var (at, value) in e)
            {
                bytes[at] = value < 128 && value >= 32 ? value : (byte)"0123456789-.e\",:{}[]\n#"[value % 21];
            }
            File.WriteAllBytes(path, bytes);
            CheckpointTestRuns.EditJson(run, o => o["files"]![name] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)));
            try
            {
                using var model = TrainedModel.Load(run);
                (model.Model.Head as FixedFanInLinear)?.Validate();
                var inputs = model.InputsFor(BertPoints.Value, "points");
                var (labels, _) = Evaluator.Predict(model.Model, inputs, 3, Xmc.Engine.Device.Cpu, model.Config.Model.Chunking());
                Assert.All(labels, row => Assert.All(row, l => Assert.InRange(l, 0, model.Model.Head.Labels - 1)));
                return true;
            }
            catch (Exception x) when (Clean(x))
            {
                return true;
            }
        });
    }

    [Fact]
    public void Every_single_fan_in_index_edit_is_caught_or_harmless()
    {
        // exhaustive over the head's first rows: every slot set to every boundary value
        var probe = CheckpointTestRuns.BowCopy();
        foreach (int element in new[] { 0, 1, 3, 4, 7 })
        {
            foreach (ushort value in new ushort[] { 0, 1, 6, 7, 8, 9, 255, 65535 })
            {
                var run = CheckpointTestRuns.BowCopy();
                CheckpointTestRuns.SetUInt16(run, "model.head.indices", element, value);
                Assert.True(LoadsCleanlyOrSoundly(run));
            }
        }
    }
}
