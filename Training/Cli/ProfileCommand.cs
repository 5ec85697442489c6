using System.CommandLine;
using System.Globalization;
using Xmc.Training.Config;
using Xmc.Training.Plots;
using Xmc.Training.Profile;

namespace Xmc.Training.Cli;

/// <summary><c>xmc profile</c>: the memory plan of a run (as <c>xmc train</c> would start it) beside a few measured
/// steps, and the largest batch under <c>--device-memory-limit</c>; <c>xmc plot RUN</c>: the PNG plots of a run
/// folder.</summary>
internal static class ProfileCommand
{
    public static Command Create(TextWriter stdout)
    {
        var options = new TrainOptions();
        var steps = new Option<int>("--steps") { Description = "training steps measured at the batch size and at half of it (0: the plan alone)", DefaultValueFactory = _ => 3 };
        var cmd = new Command("profile", "Plan the memory of a training step per ledger category from the config and the data's header, measure a few steps beside it, " +
            "and name the largest batch under --device-memory-limit; writes memory.json and PNG plots to --out (default runs/profile-<UTC time>).") { steps };
        options.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var cfg = ConfigLoader.Load(XmcCli.NonEmpty(r, options.Config), r.GetValue(options.Set)!.Concat(options.Flags(r)));
            int n = r.GetValue(steps);
            if (n < 0)
            {
                throw new ConfigException($"--steps: {n}; give 0 (the plan alone) or more");
            }
            var folder = cfg.Run.Output ?? Path.Combine("runs", "profile-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
            cfg.Run.Output = null;
            var profile = MemoryProfile.Run(cfg, n, stdout);
            profile.Print(stdout);
            if (profile.Measured is { } measured)
            {
                Loop.RunFolder.Writing($"writing {folder}", () =>
                {
                    Directory.CreateDirectory(folder);
                    MemoryRecord.Of(cfg.Run.Device.ToString(), profile.Plan, measured).Write(Path.Combine(folder, MemoryRecord.FileName));
                });
                RunPlots.TryDraw(folder, stdout);
            }
            return 0;
        });
        return cmd;
    }

    public static Command Plot(TextWriter stdout)
    {
        var run = new Argument<string>("run") { Description = "run folder written by xmc train or xmc profile" };
        var cmd = new Command("plot", "Draw the PNG plots of a run folder again: memory per category (planned vs measured), live bytes over one step (memory.json), training curves (metrics.jsonl).") { run };
        cmd.SetAction(r =>
        {
            foreach (var file in RunPlots.Draw(r.GetValue(run)!))
            {
                stdout.WriteLine(file);
            }
            return 0;
        });
        return cmd;
    }
}
