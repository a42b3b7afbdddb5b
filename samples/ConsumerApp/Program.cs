using System.Globalization;
using ConsumerApp;

// Runs each original model and its build-compressed twin on real test data and prints size,
// accuracy, top-1 agreement and latency side by side.
string shared = args.Length > 0 ? args[0] : SharedMaterial.DefaultDirectory;
string models = Path.Combine(AppContext.BaseDirectory, "models");

ModelPair[] pairs =
[
    new("digits-mlp", "digits-int8", "digits_test_x.npy", "digits_test_y.npy"),
    new("fashion-cnn", "fashion-int8", "fashion_test_x.npy", "fashion_test_y.npy"),
];

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"{"model",-14} {"variant",-9} {"bytes",10} {"accuracy",9} {"agreement",10} {"latency",11}"));
foreach (ModelPair pair in pairs)
{
    ComparisonResult result = ModelComparison.Run(pair, shared, models);
    result.Print(Console.Out);
}

return 0;
