using System.Text.RegularExpressions;
using Xmc.Engine.Distributed.Mpi;
using Xmc.Training.Cli;

namespace Xmc.Tests.Distributed;

/// <summary>The MPI communicator between real Open MPI processes on this machine (<c>xmc collectives --ranks N</c>,
/// oversubscribed): every collective gives the exactly known result on every rank, and a rank that dies or hangs
/// ends the job with an error instead of a hang.</summary>
public class MpiCollectivesTests
{
    [Fact]
    public void Every_collective_agrees_on_three_ranks()
    {
        MpiJob.RequireMpirun();
        using var job = MpiJob.Start("collectives", "--ranks", "3", "--rounds", "4", "--floats", "1000");
        var (code, _, output) = job.Exit();
        Assert.True(code == 0, $"exit {code}:\n{output}");
        for (int r = 0; r < 3; r++)
        {
            Assert.Matches(new Regex($"^rank {r} of 3: all-reduce, all-gather, reduce-scatter, broadcast and barrier agree; 4 rounds", RegexOptions.Multiline), output);
        }
        // per round: all-reduce 4000 B, all-gather 4000 B, reduce-scatter 3·4000 B, broadcast 4000 B
        Assert.Equal(3, Regex.Matches(output, $"{4 * (4000 + 4000 + 12000 + 4000)} payload bytes").Count);
    }

    [Fact]
    public void A_stopped_rank_makes_the_others_time_out_and_end_the_job()
    {
        MpiJob.RequireMpirun();
        using var job = MpiJob.Start("collectives", "--ranks", "2", "--rounds", "100000000", "--floats", "16", "--timeout", "2");
        int pid = job.PidOf(1);
        job.PidOf(0);
        MpiJob.Signal(pid, 19); // SIGSTOP: alive but never answering, as a rank stuck in a loop or swapped out
        var (code, waited, output) = job.Exit(60);
        Assert.True(code == MpiCommunicator.AbortExitCode, $"exit {code}:\n{output}");
        Assert.Matches(@"rank 0 of 2: [a-z -]+(\([a-z]+\))? of \d+ bytes did not complete within 2 s: another rank has died or is stuck; ending the job", output);
        Assert.True(waited < TimeSpan.FromSeconds(30), $"the job took {waited} to end");
    }

    [Fact]
    public void A_killed_rank_ends_the_job_on_every_rank()
    {
        MpiJob.RequireMpirun();
        using var job = MpiJob.Start("collectives", "--ranks", "2", "--rounds", "100000000", "--floats", "16", "--timeout", "30");
        job.PidOf(0);
        MpiJob.Signal(job.PidOf(1), 9);
        var (code, waited, output) = job.Exit(60);
        Assert.True(code != 0, $"exit 0 after a rank was killed:\n{output}");
        Assert.True(waited < TimeSpan.FromSeconds(25), $"the job took {waited} to end, beyond what a collective timeout would explain:\n{output}");
        Assert.DoesNotMatch("agree;", output);
    }

    [Fact]
    public void Ranks_without_mpirun_is_a_clear_error()
    {
        var e = Assert.Throws<Xmc.Engine.Distributed.CommunicationException>(() => MpirunLauncher.CommandLine(2, ["train"], "/nonexistent-folder"));
        Assert.Contains("--ranks 2 needs Open MPI's mpirun, which is not on PATH", e.Message);
        Assert.Contains("apt-get install openmpi-bin", e.Message);
    }

    [Fact]
    public void The_launcher_oversubscribes_and_passes_the_other_arguments()
    {
        MpiJob.RequireMpirun();
        var (mpirun, args) = MpirunLauncher.CommandLine(3, MpirunLauncher.WithoutRanks(["train", "--ranks", "3", "--epochs", "1", "--ranks=3"]));
        Assert.EndsWith("mpirun", mpirun);
        Assert.Equal(["-np", "3", "--oversubscribe"], args.Take(3));
        Assert.Equal(["train", "--epochs", "1"], args.TakeLast(3));
        Assert.Equal(Environment.UserName == "root", args.Contains("--allow-run-as-root"));
    }
}
