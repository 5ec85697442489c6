using System.Diagnostics;
using Xmc.Engine;
using Xmc.Engine.Memory;

namespace Xmc.Training;

/// <summary>The engine's smoke run behind <c>xmc demo</c>: a two-layer network trained by plain SGD on
/// Philox-generated Gaussian clusters, touching tensors, autodiff, the CPU kernels and the memory ledger without
/// the XMC model or trainer. Each class owns several clusters scattered over the space, so a class's region is
/// not one convex blob. The hidden activation is LayerNorm followed by a + a⊙a (a quadratic unit built from
/// element-wise ops); dropout regularises it.</summary>
public static class EngineDemo
{
    private const int Inputs = 8, Hidden = 64, Classes = 6, ClustersPerClass = 4;
    private const int TrainPoints = 3000, TestPoints = 1200, Batch = 128, ReportEvery = 50;
    private const float LearningRate = 0.2f, DropoutP = 0.1f;

    /// <summary>The steps <c>xmc demo</c> runs.</summary>
    public const int DefaultSteps = 500;

    /// <summary>Trains the demo network for <paramref name="steps"/> SGD steps, printing the loss as it falls,
    /// the final accuracies and the memory ledger. Returns the mean loss of the last report window and the
    /// accuracy on held-out points.</summary>
    public static (double FinalLoss, double TestAccuracy) Run(int steps, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        var data = new PhiloxStream(seed: 2024);
        var centers = new float[Classes * ClustersPerClass * Inputs];
        data.NextNormal(centers, 0f, 2f);
        var (trainX, trainY) = Sample(data, centers, TrainPoints);
        var (testX, testY) = Sample(data, centers, TestPoints);

        var init = new PhiloxStream(seed: 7);
        var w1 = Parameter(new Shape(Inputs, Hidden), init, 1f / MathF.Sqrt(Inputs));
        var b1 = Parameter(new Shape(Hidden), null, 0f);
        var gamma = Parameter(new Shape(Hidden), null, 1f);
        var beta = Parameter(new Shape(Hidden), null, 0f);
        var w2 = Parameter(new Shape(Hidden, Classes), init, 1f / MathF.Sqrt(Hidden));
        var b2 = Parameter(new Shape(Classes), null, 0f);
        Tensor[] parameters = [w1, b1, gamma, beta, w2, b2];

        Tensor Forward(Tensor x, PhiloxStream? dropout)
        {
            var h = Ops.LayerNorm(Ops.Add(Ops.MatMul(x, w1), b1), gamma, beta);
            var a = Ops.Add(h, Ops.Mul(h, h));
            if (dropout is not null)
            {
                a = Ops.Dropout(a, DropoutP, dropout);
            }
            return Ops.Add(Ops.MatMul(a, w2), b2);
        }

        log.WriteLine($"engine demo: {Classes} classes × {ClustersPerClass} Gaussian clusters in {Inputs}-d, " +
            $"MLP {Inputs}→{Hidden}→{Classes}, SGD lr {LearningRate}, batch {Batch}, {steps} steps");
        var sampling = new PhiloxStream(seed: 99);
        var dropoutStream = new PhiloxStream(seed: 5);
        var rows = new int[Batch];
        double running = 0, finalLoss = double.NaN;
        int inWindow = 0;
        for (int step = 1; step <= steps; step++)
        {
            using var scope = TensorScope.Begin();
            sampling.NextDistinctRows(1, TrainPoints, rows);
            var (bx, by) = Gather(trainX, trainY, rows);
            var loss = Ops.SoftmaxCrossEntropy(Forward(bx, dropoutStream), by);
            running += loss.Item();
            inWindow++;
            loss.Backward();
            foreach (var p in parameters)
            {
                p.Backend.Axpy(p.Address, p.Grad!.Address, p.Numel, -LearningRate);
                p.ZeroGrad();
            }
            if (step % ReportEvery == 0 || step == 1 || step == steps)
            {
                finalLoss = running / inWindow;
                log.WriteLine($"step {step,4}  loss {finalLoss:F4}");
                running = 0;
                inWindow = 0;
            }
        }

        double testAccuracy;
        using (Autograd.NoGrad())
        {
            testAccuracy = Accuracy(Forward, testX, testY);
            log.WriteLine($"train accuracy {Accuracy(Forward, trainX, trainY):P1}, test accuracy {testAccuracy:P1} " +
                $"(chance {1.0 / Classes:P1}); {clock.Elapsed.TotalSeconds:F1} s");
        }
        log.WriteLine(CpuBackendLedger().FormatTable());
        foreach (var p in parameters)
        {
            p.Dispose();
        }
        return (finalLoss, testAccuracy);
    }

    private static MemoryLedger CpuBackendLedger() => Engine.Backends.CpuBackend.Instance.CpuAllocator.Ledger;

    /// <summary>Points around the cluster centers (std 0.6); cluster j belongs to class j mod Classes.</summary>
    private static (float[] X, int[] Y) Sample(PhiloxStream rng, float[] centers, int count)
    {
        var x = new float[count * Inputs];
        var y = new int[count];
        rng.NextNormal(x, 0f, 0.6f);
        var pick = new float[count];
        rng.NextUniform(pick);
        int clusters = Classes * ClustersPerClass;
        for (int i = 0; i < count; i++)
        {
            int cluster = Math.Min(clusters - 1, (int)(pick[i] * clusters));
            y[i] = cluster % Classes;
            for (int d = 0; d < Inputs; d++)
            {
                x[i * Inputs + d] += centers[cluster * Inputs + d];
            }
        }
        return (x, y);
    }

    private static (Tensor X, Tensor Y) Gather(float[] x, int[] y, ReadOnlySpan<int> rows)
    {
        var bx = new float[rows.Length * Inputs];
        var by = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            x.AsSpan(rows[i] * Inputs, Inputs).CopyTo(bx.AsSpan(i * Inputs));
            by[i] = y[rows[i]];
        }
        return (Tensor.FromArray(bx, new Shape(rows.Length, Inputs)), Tensor.FromArray(by));
    }

    private static double Accuracy(Func<Tensor, PhiloxStream?, Tensor> forward, float[] x, int[] y)
    {
        using var scope = TensorScope.Begin();
        var logits = forward(Tensor.FromArray(x, new Shape(y.Length, Inputs)), null);
        var predicted = Ops.TopK(logits, 1).Indices.ToArray<int>();
        return predicted.Zip(y).Count(p => p.First == p.Second) / (double)y.Length;
    }

    /// <summary>A trainable leaf: N(0, std²) from <paramref name="init"/>, or filled with <paramref name="std"/>
    /// when no stream is given (biases and LayerNorm's affine).</summary>
    private static Tensor Parameter(Shape shape, PhiloxStream? init, float std)
    {
        var t = Tensor.CreateUntracked(shape, DType.Float32, Device.Cpu, MemoryCategory.Parameters, zero: false);
        if (init is null)
        {
            t.Backend.Fill(t.Address, t.Numel, std);
        }
        else
        {
            t.Backend.FillNormal(t.Address, t.Numel, init.Seed, init.Reserve(t.Numel), 0f, std);
        }
        t.RequiresGrad = true;
        return t;
    }
}
