"""Server-rendered staff pages shared by every tenant."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"tenant": request.tenant})


def home_public(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home_public.html")


urlpatterns = [path("", home, name="home")]
