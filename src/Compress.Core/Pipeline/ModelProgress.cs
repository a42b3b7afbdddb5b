namespace Compress.Core.Pipeline;

/// <summary>Reports the long steps of one model to a log, so the steps themselves need not know the model's name.</summary>
public sealed class ModelProgress(IPipelineLog log, string model)
{
    /// <summary>Reports that <paramref name="done"/> of <paramref name="total"/> units of <paramref name="activity"/> are finished.</summary>
    public void Report(string activity, int done, int total) => log.Progress(new PipelineProgress(model, activity, done, total));
}
