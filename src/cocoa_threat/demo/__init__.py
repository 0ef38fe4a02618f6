"""The embedded synthetic demo region (the default data of ``kedro run``)."""
