from django.urls import path

from ketacare.audit import views

urlpatterns = [path("", views.audit_list, name="audit_list")]
