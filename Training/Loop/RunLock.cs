using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Xmc.Training.Loop;

/// <summary>Who holds a run folder: the process id, host and start time written into its lock file.</summary>
public sealed record RunLockHolder(int Pid, string Host, DateTimeOffset Started, string Command)
{
    /// <inheritdoc/>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"process {Pid} on host {Host}, started {Started:yyyy-MM-dd HH:mm:ss} UTC ({Command})");
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(RunLockHolder))]
internal sealed partial class RunLockJsonContext : JsonSerializerContext
{
}

/// <summary>The lock file <c>xmc.lock</c> that keeps a second training out of a run folder. It is created
/// exclusively (so of two processes exactly one gets it) and holds its owner's <see cref="RunLockHolder"/>; a lock
/// whose process is gone (killed with -9, a crash) is stale and taken over: on the same host when no process has its
/// id or the one that has it started after the lock was written. Disposing removes the lock.</summary>
public sealed class RunLock : IDisposable
{
    /// <summary>Name of the lock file in the run folder.</summary>
    public const string FileName = "xmc.lock";

    // a lock file still empty or half written this long after its creation is from a process that died writing it
    private static readonly TimeSpan UnreadableGrace = TimeSpan.FromSeconds(10);

    private readonly string _path;
    private bool _released;

    private RunLock(string path, string? takenOver)
    {
        _path = path;
        TakenOver = takenOver;
    }

    /// <summary>The stale holder this lock replaced, if any (for the log).</summary>
    public string? TakenOver { get; }

    /// <summary>Takes the lock of <paramref name="folder"/>.</summary>
    /// <exception cref="RunFolderException">Another live process holds it, or the folder is not writable.</exception>
    public static RunLock Acquire(string folder)
    {
        var path = Path.Combine(folder, FileName);
        string? takenOver = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            FileStream created;
            try
            {
                created = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new RunFolderException($"{folder}: cannot write into the run folder ({e.Message}); choose a writable --out");
            }
            catch (IOException) when (File.Exists(path))
            {
                var holder = Read(path, out var unreadable);
                if (holder is not null && !IsStale(holder))
                {
                    throw new RunFolderException($"{folder}: the run folder is in use by another training: {holder}. " +
                        $"Wait for it to end, or, if that process is gone, delete {path}");
                }
                if (holder is null && DateTime.UtcNow - File.GetLastWriteTimeUtc(path) < UnreadableGrace)
                {
                    throw new RunFolderException($"{folder}: another training is taking the run folder just now ({path}: {unreadable}); try again in a few seconds");
                }
                if (TakeAway(path, holder))
                {
                    takenOver = holder?.ToString() ?? $"an unreadable lock file ({unreadable})";
                }
                continue;
            }
            catch (IOException e)
            {
                throw new RunFolderException($"{folder}: cannot create the lock file {path} ({e.Message})");
            }
            try
            {
                using (created)
                {
                    var me = new RunLockHolder(Environment.ProcessId, Environment.MachineName, Process.GetCurrentProcess().StartTime.ToUniversalTime(),
                        string.Join(' ', Environment.GetCommandLineArgs().Skip(1).Take(12)));
                    JsonSerializer.Serialize(created, me, RunLockJsonContext.Default.RunLockHolder);
                    created.Flush(flushToDisk: true);
                }
                return new RunLock(path, takenOver);
            }
            catch (IOException e)
            {
                File.Delete(path);
                throw new RunFolderException($"{folder}: cannot write the lock file {path} ({e.Message})", e);
            }
        }
        throw new RunFolderException($"{folder}: could not take the run folder's lock {path}: other processes keep taking it");
    }

    /// <summary>The holder written in the lock file at <paramref name="path"/>, or null (with why) when it cannot be read.</summary>
    public static RunLockHolder? Read(string path, out string why)
    {
        try
        {
            var holder = JsonSerializer.Deserialize(File.ReadAllText(path), RunLockJsonContext.Default.RunLockHolder);
            why = holder is null ? "empty" : "";
            return holder is { Pid: > 0, Host: not null } ? holder : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            why = e.Message;
            return null;
        }
    }

    /// <summary>Whether <paramref name="holder"/> is gone: on this host, no process has its id, or the one that has
    /// it is younger than the lock. A holder on another host is never judged stale.</summary>
    public static bool IsStale(RunLockHolder holder)
    {
        ArgumentNullException.ThrowIfNull(holder);
        if (holder.Host != Environment.MachineName)
        {
            return false;
        }
        try
        {
            using var process = Process.GetProcessById(holder.Pid);
            if (process.HasExited)
            {
                return true;
            }
            return process.StartTime.ToUniversalTime() > holder.Started.UtcDateTime.AddSeconds(1);
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>Moves a stale lock out of the way by renaming it to a unique name first, so that of two processes
    /// that both found it stale only one removes it (the other's rename fails and it reads the new lock).</summary>
    private static bool TakeAway(string path, RunLockHolder? stale)
    {
        var aside = $"{path}.stale-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            File.Move(path, aside);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        var moved = Read(aside, out _);
        if (moved is not null && stale is not null && moved != stale)
        {
            // another process took the stale lock over between our read and our rename: give its lock back
            try
            {
                File.Move(aside, path);
            }
            catch (IOException)
            {
                // it was replaced meanwhile again; nothing of ours to restore
            }
            return false;
        }
        File.Delete(aside);
        return true;
    }

    /// <summary>Removes the lock file (once).</summary>
    public void Dispose()
    {
        if (_released)
        {
            return;
        }
        _released = true;
        try
        {
            File.Delete(_path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // the folder itself is gone (xmc profile deletes its scratch run) or no longer writable: nothing to release
        }
    }
}
