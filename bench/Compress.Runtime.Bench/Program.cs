using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Compress.Runtime.Bench;

// --interleaved [rounds]: the Stopwatch harness (raw ORT and Compress.Runtime alternated round by round).
// Otherwise BenchmarkDotNet, in process (no generated project to build, so the repository's artifacts layout
// is untouched); --quick shortens it to a smoke run; BenchmarkDotNet's own options (--filter, ...) also work.
int interleaved = Array.IndexOf(args, "--interleaved");
if (interleaved >= 0)
{
    int rounds = interleaved + 1 < args.Length ? int.Parse(args[interleaved + 1], CultureInfo.InvariantCulture) : 41;
    InterleavedHarness.Run(rounds, Console.Out);
    return;
}

bool quick = args.Contains("--quick");
Job job = Job.Default.WithToolchain(InProcessEmitToolchain.Instance);
job = quick
    ? job.WithWarmupCount(1).WithIterationCount(3).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(100))
    : job.WithWarmupCount(5).WithIterationCount(15).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250));
IConfig config = DefaultConfig.Instance.AddJob(job.AsDefault());
BenchmarkRunner.Run<SteadyStateLatency>(config, [.. args.Where(a => a != "--quick")]);
