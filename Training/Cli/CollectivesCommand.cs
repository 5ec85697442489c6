using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Xmc.Engine;
using Xmc.Engine.Distributed;
using Xmc.Engine.Distributed.Mpi;

namespace Xmc.Training.Cli;

/// <summary><c>xmc collectives [--ranks N]</c>: checks that the ranks of a job can talk — every collective with
/// contents whose result is known exactly — and times them. Run it under <c>mpirun</c> (or with <c>--ranks</c>) to
/// check an MPI setup, a hostfile or a cluster before training; each rank prints one line.</summary>
public static class CollectivesCommand
{
    /// <summary>The command.</summary>
    public static Command Create(TextWriter stdout, IReadOnlyList<string> args)
    {
        var ranks = new Option<int?>("--ranks") { Description = "start N ranks on this machine through mpirun (default: the job this process is a rank of, else one)" };
        var floats = new Option<int>("--floats") { Description = "float32 values per rank and collective", DefaultValueFactory = _ => 4096 };
        var rounds = new Option<int>("--rounds") { Description = "rounds of every collective", DefaultValueFactory = _ => 10 };
        var timeout = new Option<double>("--timeout") { Description = "seconds a collective may take before the job is ended", DefaultValueFactory = _ => MpiCommunicator.DefaultTimeout.TotalSeconds };
        var cmd = new Command("collectives", "Check and time the collectives between the ranks of an MPI job (each rank prints one line).") { ranks, floats, rounds, timeout };
        cmd.SetAction(r =>
        {
            if (r.GetValue(ranks) is int n && !MpiLaunch.IsRank)
            {
                return MpirunLauncher.Run(n, MpirunLauncher.WithoutRanks(args));
            }
            using ICommunicator comm = MpiLaunch.IsRank ? MpiCommunicator.World(TimeSpan.FromSeconds(r.GetValue(timeout))) : new SingleProcessCommunicator();
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rank {comm.Rank} of {comm.Size}: pid {Environment.ProcessId}"));
            stdout.Flush();
            var clock = Stopwatch.StartNew();
            int count = Math.Max(1, r.GetValue(floats));
            for (int round = 0; round < r.GetValue(rounds); round++)
            {
                Check(comm, count, round);
            }
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rank {comm.Rank} of {comm.Size}: all-reduce, all-gather, reduce-scatter, broadcast and barrier agree; {r.GetValue(rounds)} rounds of {count} floats, {clock.Elapsed.TotalMilliseconds / Math.Max(1, r.GetValue(rounds)):F2} ms per round, {comm.Counters.TotalBytes} payload bytes"));
            return 0;
        });
        return cmd;
    }

    /// <summary>One round of every collective; contents are small integers times powers of two, so every sum is exact
    /// and the expected result is known in closed form.</summary>
    private static void Check(ICommunicator comm, int n, int round)
    {
        int p = comm.Size, r = comm.Rank;
        float triangle = p * (p + 1) / 2f;
        using var scope = TensorScope.Begin();
        var reduced = Tensor.FromArray(Enumerable.Range(0, n).Select(i => (r + 1) * (((i + round) % 7) + 1) * 0.25f).ToArray());
        comm.AllReduceSum(reduced);
        Expect(reduced.ToArray<float>(), i => triangle * (((i + round) % 7) + 1) * 0.25f, "all-reduce", r);

        var local = Tensor.FromArray(Enumerable.Range(0, n).Select(i => r * n + i + round).ToArray());
        var gathered = comm.AllGather(local);
        var all = gathered.ToArray<int>();
        for (int i = 0; i < all.Length; i++)
        {
            if (all[i] != i + round)
            {
                throw new CommunicationException($"rank {r}: all-gather gave {all[i]} at {i}, expected {i + round}");
            }
        }

        var full = Tensor.FromArray(Enumerable.Range(0, p * n).Select(j => (r + 1) * ((j % 5) + 1) * 1f).ToArray());
        var block = comm.ReduceScatterSum(full);
        Expect(block.ToArray<float>(), i => triangle * (((r * n + i) % 5) + 1), "reduce-scatter", r);

        int root = (p - 1 + round) % p;
        var broadcast = Tensor.FromArray(Enumerable.Range(0, n).Select(i => r == root ? i * 0.5f : -1f).ToArray());
        comm.Broadcast(broadcast, root);
        Expect(broadcast.ToArray<float>(), i => i * 0.5f, "broadcast", r);
        comm.Barrier();
    }

    private static void Expect(float[] got, Func<int, float> expected, string what, int rank)
    {
        for (int i = 0; i < got.Length; i++)
        {
            if (got[i] != expected(i))
            {
                throw new CommunicationException($"rank {rank}: {what} gave {got[i]} at {i}, expected {expected(i)}");
            }
        }
    }
}
