"""Fault detection on the phase stream and the AMI readings: windowed features, labels from
`fault_labels`, a threshold baseline, scikit-learn models and held-out metrics (README "Anomaly
detection")."""
