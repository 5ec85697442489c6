using Xmc.Engine;
using Xmc.Models.Xmc;

namespace Xmc.Tests.Models;

/// <summary>The bag-of-words model's input and hidden dropout (model.inputDropout, model.hiddenDropout).</summary>
[Collection(LedgerCollection.Name)]
public class BowXmcModelTests
{
    private static CsrTensor Batch()
    {
        // 3 points over 12 features, 4 entries each
        int[] rowPtr = [0, 4, 8, 12];
        int[] cols = [0, 3, 5, 7, 1, 2, 8, 11, 4, 6, 9, 10];
        float[] values = [0.5f, 0.5f, 0.5f, 0.5f, 0.1f, 0.7f, 0.7f, 0.1f, 0.25f, 0.25f, 0.9f, 0.25f];
        return CsrTensor.FromArrays(rowPtr, cols, values, 12);
    }

    private static float[] Embed(BowXmcModel model, CsrTensor x)
    {
        using var scope = TensorScope.Begin();
        return model.Embed(x).ToArray<float>();
    }

    [Fact]
    public void Dropout_is_a_function_of_seed_and_step_and_off_in_eval_mode()
    {
        var plain = new XmcModelConfig { Hidden = 16, FanIn = 4 };
        var dropping = plain with { InputDropout = 0.5, HiddenDropout = 0.25 };
        using var a = new BowXmcModel(plain, 12, 5, seed: 9);
        using var b = new BowXmcModel(dropping, 12, 5, seed: 9);
        using var x = Batch();
        var reference = Embed(a, x);

        b.EvalMode();
        Assert.Equal(reference, Embed(b, x));

        b.TrainMode(seed: 4, step: 7);
        var first = Embed(b, x);
        Assert.Equal(first, Embed(b, x));
        Assert.NotEqual(reference, first);
        b.TrainMode(seed: 4, step: 8);
        Assert.NotEqual(first, Embed(b, x));

        // hidden dropout zeroes whole units of the ReLU output and scales the rest by 1/(1 − p); with input dropout
        // off the kept units equal the plain model's
        using var c = new BowXmcModel(plain with { HiddenDropout = 0.25 }, 12, 5, seed: 9);
        c.TrainMode(seed: 4, step: 7);
        var h = Embed(c, x);
        int dropped = 0;
        for (int i = 0; i < h.Length; i++)
        {
            if (h[i] == 0 && reference[i] != 0)
            {
                dropped++;
            }
            else
            {
                Assert.Equal(reference[i] / 0.75f, h[i], 5);
            }
        }
        Assert.InRange(dropped, 1, h.Length - 1);

        a.TrainMode(seed: 4, step: 7); // p = 0: training mode changes nothing
        Assert.Equal(reference, Embed(a, x));
    }

    [Fact]
    public void Input_dropout_passes_gradients_to_the_kept_features_only()
    {
        using var m = new BowXmcModel(new XmcModelConfig { Hidden = 8, FanIn = 4, InputDropout = 0.5 }, 12, 5, seed: 2);
        using var x = Batch();
        m.TrainMode(seed: 1, step: 3);
        using (var scope = TensorScope.Begin())
        {
            Ops.Sum(m.Embed(x)).Backward();
        }
        var g = m.InputWeight.Grad!.ToArray<float>();
        int rowsWithGrad = Enumerable.Range(0, 12).Count(f => g.AsSpan(f * 8, 8).ToArray().Any(v => v != 0));
        // 12 features occur once each; about half survive the mask (and a surviving one may still get 0 through the ReLU)
        Assert.InRange(rowsWithGrad, 1, 11);
        m.ZeroGrad();
    }
}
