using Xmc.Engine;
using Xmc.Models.Xmc;
using Xmc.Training.Data;
using Xmc.Training.Evaluation;
using Xmc.Training.Inputs;

namespace Xmc.Tests.Training;

public class EvaluatorTests
{
    private static (IXmcModel Model, TfIdfInputs Inputs) SmallModel(HeadKind head)
    {
        var (train, _) = SyntheticData.Generate(new SyntheticDataOptions { TrainPoints = 200, TestPoints = 0, Labels = 37, Features = 120, Seed = 3 });
        var config = new XmcModelConfig { Hidden = 16, FanIn = 4, Head = head };
        var model = XmcModelBuilder.Build(config, new XmcModelShape(train.NumFeatures, train.NumLabels), seed: 9, Device.Cpu);
        return (model, new TfIdfInputs(train, FeatureWeights.Fit(train.Features, FeatureWeighting.TfIdf)));
    }

    [Theory]
    [InlineData(HeadKind.FanIn)]
    [InlineData(HeadKind.Dense)]
    [InlineData(HeadKind.Masked)]
    public void Predictions_do_not_depend_on_the_label_chunking_and_the_chunking_reaches_the_head(HeadKind head)
    {
        var (model, inputs) = SmallModel(head);
        using (model)
        {
            var whole = Evaluator.Predict(model, inputs, 5, Device.Cpu);
            var chunked = Evaluator.Predict(model, inputs, 5, Device.Cpu, new LabelChunking(7));
            Assert.Equal(whole.Labels, chunked.Labels);
            Assert.Equal(whole.Scores, chunked.Scores);
            // An impossible chunk size is refused by the head's top-k: so the chunking is really passed down.
            Assert.Throws<ArgumentOutOfRangeException>(() => Evaluator.Predict(model, inputs, 5, Device.Cpu, new LabelChunking(0)));
        }
    }
}
