"""Benchmark-only routes, mounted when KETACARE_BENCH_FLOOR=1 (never in production)."""

from django.urls import path

from ketacare.synth import views

urlpatterns = [path("floor/<int:patient_id>/", views.floor, name="bench_floor")]
