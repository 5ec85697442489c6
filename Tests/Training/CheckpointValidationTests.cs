using System.Text.Json.Nodes;
using Xmc.Training.Checkpoints;
using Xmc.Training.Cli;
using Xmc.Training.Config;
using Xmc.Training.Data;
using Xmc.Training.Evaluation;
using Xmc.Training.Loop;

namespace Xmc.Tests.Training;

/// <summary>Checkpoints written wrong (their checksum consistent) are refused with a <see cref="CheckpointException"/>
/// naming the file and what is wrong, before any kernel reads them: fan-in indices out of range or not ascending,
/// non-finite weights (exit 3), progress outside the schedule, JSON fields missing, run files of a bert model changed.</summary>
[Collection(LedgerCollection.Name)]
public class CheckpointValidationTests
{
    private static string DataFile(string run)
    {
        // a labelled file of the run's shape to evaluate on: the synthetic set of the tiny run, written as sparse BoW
        var path = Path.Combine(Path.GetDirectoryName(run)!, "test.txt");
        var (_, test) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 200, TestPoints = 20, Labels = 30, Features = 100, Seed = 2 });
        SparseBowWriter.Write(test, path);
        return path;
    }

    private static (int Code, string Error) Eval(string run)
    {
        var err = new StringWriter();
        int rc = XmcCli.Run(["eval", "--checkpoint", run, "--data", DataFile(run)], TextWriter.Null, err);
        return (rc, err.ToString());
    }

    [Fact]
    public void The_intact_copy_loads_and_evaluates()
    {
        var run = CheckpointTestRuns.BowCopy();
        var (rc, err) = Eval(run);
        Assert.True(rc == 0, err);
    }

    [Fact]
    public void A_fan_in_index_out_of_range_is_refused_before_eval_reads_it()
    {
        var run = CheckpointTestRuns.BowCopy();
        CheckpointTestRuns.SetUInt16(run, "model.head.indices", 5, 60000);
        var e = Assert.Throws<CheckpointException>(() => TrainedModel.Load(run));
        Assert.Contains("outside [0, 8)", e.Message);
        Assert.Contains(".safetensors", e.Message);
        var (rc, err) = Eval(run);
        Assert.Equal(XmcCli.BadInput, rc);
        Assert.Contains("row 1 slot 1", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void A_duplicated_fan_in_index_is_refused()
    {
        var run = CheckpointTestRuns.BowCopy();
        ushort first = CheckpointTestRuns.GetUInt16(run, "model.head.indices", 8);
        CheckpointTestRuns.SetUInt16(run, "model.head.indices", 9, first);
        var e = Assert.Throws<CheckpointException>(() => TrainedModel.Load(run));
        Assert.Contains("row 2 slot 1", e.Message);
        Assert.Contains("strictly ascending", e.Message);
    }

    [Fact]
    public void Non_finite_weights_are_refused_with_exit_code_3_naming_the_tensor()
    {
        var run = CheckpointTestRuns.BowCopy();
        CheckpointTestRuns.SetFloat(run, "model.input_weight", 7, float.NaN);
        var e = Assert.Throws<NonFiniteCheckpointException>(() => TrainedModel.Load(run));
        Assert.Contains("model.input_weight", e.Message);
        Assert.Contains("element 7", e.Message);
        var (rc, err) = Eval(run);
        Assert.Equal(XmcCli.NonFinite, rc);
        Assert.Contains("NaN", err);

        // the optimizer state of a resumed run is checked too
        run = CheckpointTestRuns.BowCopy();
        CheckpointTestRuns.SetFloat(run, "optim.head.values.1", 0, float.PositiveInfinity);
        var cfg = ConfigLoader.Load(null, CheckpointTestRuns.TinyBow.Append("run.output=" + run).Append("optim.epochs=2"));
        e = Assert.Throws<NonFiniteCheckpointException>(() => new Trainer(cfg, TextWriter.Null, resumeFrom: run, interactive: false).Dispose());
        Assert.Contains("optim.head.values.1", e.Message);
    }

    [Fact]
    public void Progress_outside_the_schedule_is_refused_on_resume()
    {
        // 200 points in batches of 50: 4 batches per epoch; the run ended at step 4, epoch 1, batch 0
        foreach (var (field, value, expected) in new (string, long, string)[] { ("batchInEpoch", 7, "batchInEpoch 7"), ("step", 3, "step 3"), ("trainPoints", 150, "150 points") })
        {
            var run = CheckpointTestRuns.BowCopy();
            CheckpointTestRuns.EditJson(run, o => o[field] = value);
            var cfg = ConfigLoader.Load(null, CheckpointTestRuns.TinyBow.Append("run.output=" + run).Append("optim.epochs=2"));
            var e = Assert.Throws<CheckpointException>(() => new Trainer(cfg, TextWriter.Null, resumeFrom: run, interactive: false).Dispose());
            Assert.Contains(expected, e.Message);
        }
    }

    [Theory]
    [InlineData("tensorFile", "field 'tensorFile' is missing")]
    [InlineData("config", "field 'config' is missing")]
    [InlineData("sha256", "field 'sha256'")]
    public void A_checkpoint_json_without_a_field_or_with_null_is_a_checkpoint_error(string field, string expected)
    {
        foreach (var edit in new Action<JsonObject>[] { o => o.Remove(field), o => o[field] = null })
        {
            var run = CheckpointTestRuns.BowCopy();
            CheckpointTestRuns.EditJson(run, edit);
            var e = Assert.Throws<CheckpointException>(() => TrainedModel.Load(run));
            Assert.Contains(expected, e.Message);
            Assert.Contains("checkpoint-", e.Message);
        }
    }

    [Fact]
    public void A_tensor_file_outside_the_folder_or_sizes_beyond_the_tensors_are_refused()
    {
        var run = CheckpointTestRuns.BowCopy();
        CheckpointTestRuns.EditJson(run, o => o["tensorFile"] = "../elsewhere.safetensors");
        Assert.Contains("beside the checkpoint", Assert.Throws<CheckpointException>(() => TrainedModel.Load(run)).Message);

        run = CheckpointTestRuns.BowCopy();
        CheckpointTestRuns.EditJson(run, o => o["labels"] = 3000);
        Assert.Contains("field 'labels' is 3000", Assert.Throws<CheckpointException>(() => TrainedModel.Load(run)).Message);

        run = CheckpointTestRuns.BowCopy();
        CheckpointTestRuns.EditJson(run, o => o["features"] = 900000);
        Assert.Contains("field 'features' is 900000", Assert.Throws<CheckpointException>(() => TrainedModel.Load(run)).Message);
    }

    [Fact]
    public void Bert_run_files_are_under_the_checksum_and_a_garbage_encoder_config_is_a_clear_error()
    {
        var run = CheckpointTestRuns.BertCopy();
        Assert.NotNull(TrainedModel.Load(run).Config); // the intact copy loads

        var vocab = Path.Combine(run, ModelSetup.VocabFile);
        var lines = File.ReadAllLines(vocab);
        File.WriteAllLines(vocab, lines[..(lines.Length / 2)]);
        var e = Assert.Throws<CheckpointException>(() => TrainedModel.Load(run));
        Assert.Contains("vocab.txt does not match the checksum", e.Message);

        run = CheckpointTestRuns.BertCopy();
        File.WriteAllText(Path.Combine(run, ModelSetup.BertConfigFile), "{ garbage");
        e = Assert.Throws<CheckpointException>(() => TrainedModel.Load(run));
        Assert.Contains("bert-config.json does not match the checksum", e.Message);

        // written garbage (its checksum in the checkpoint): a clear error naming the file, not a FormatException
        run = CheckpointTestRuns.BertCopy();
        var configPath = Path.Combine(run, ModelSetup.BertConfigFile);
        File.WriteAllText(configPath, "{ garbage");
        CheckpointTestRuns.EditJson(run, o => o["files"]![ModelSetup.BertConfigFile] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(configPath))));
        e = Assert.Throws<CheckpointException>(() => TrainedModel.Load(run));
        Assert.Contains("bert-config.json: not valid JSON", e.Message);

        // a checkpoint that dropped the list of run files is refused rather than trusting the files unchecked
        run = CheckpointTestRuns.BertCopy();
        CheckpointTestRuns.EditJson(run, o => o.Remove("files"));
        Assert.Contains("no checksum for vocab.txt", Assert.Throws<CheckpointException>(() => TrainedModel.Load(run)).Message);
    }
}
