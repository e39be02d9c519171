"""
TaskFlow decorators: ``@task.vimmerse_media`` and ``@task.vimmerse_story`` (registered in provider info).

* :mod:`~airflow_provider_vimmerse.decorators.base`: what every decorator shares (call the function, set
  its fields, run the operator);
* :mod:`~airflow_provider_vimmerse.decorators.media`: ``@task.vimmerse_media``, a media generation;
* :mod:`~airflow_provider_vimmerse.decorators.story`: ``@task.vimmerse_story``, a story in one step.
"""

from __future__ import annotations
