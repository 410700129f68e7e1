"""The provincial cloud (plan item 1.1) as Pulumi components driven by the province model."""
