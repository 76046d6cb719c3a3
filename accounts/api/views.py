"""Accounts API: registration, tokens, the signed-in user, invitations and links."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api.serializers import (
    CareLinkSerializer,
    InvitationAcceptSerializer,
    InvitationSerializer,
    MeSerializer,
    RegisterSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from accounts.models import Role
from accounts.permissions import IsPatient, IsTherapist
from backend.parsers import reject_body
from backend.schema import ErrorSerializer
from recovery import services as recovery_services


class RegisterView(APIView):
    """Create a patient account. Therapists are created by clinic staff."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "auth"

    @extend_schema(request=RegisterSerializer, responses={201: MeSerializer})
    def post(self, request: Request) -> Response:
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        user = services.user_create(
            email=fields["email"],
            password=fields["password"],
            name=fields["name"],
            timezone_name=fields["timezone"],
            role=Role.PATIENT,
        )
        return Response(MeSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "auth"

    def get_authenticate_header(self, request: Request) -> str:
        # Wrong credentials answer 401 (with the scheme to use), not 403.
        return "Token"

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            401: OpenApiResponse(ErrorSerializer, description="The email or password is wrong."),
        },
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=data.validated_data["email"].lower(),
            password=data.validated_data["password"],
        )
        if user is None:
            raise AuthenticationFailed("Email or password is wrong.")
        return Response({"token": services.token_obtain(user=user).key})


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        reject_body(request)
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(generics.RetrieveUpdateAPIView):
    serializer_class = MeSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer: MeSerializer) -> None:
        user = self.request.user
        if user.is_patient:  # a patient's time zone decides their plan's today
            recovery_services.patient_update(patient=user, **serializer.validated_data)
        else:
            services.user_update(user=user, **serializer.validated_data)


class InvitationCreateView(APIView):
    permission_classes = [IsTherapist]

    @extend_schema(request=None, responses={201: InvitationSerializer})
    def post(self, request: Request) -> Response:
        reject_body(request)
        invitation = services.invitation_create(therapist=request.user)
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationAcceptView(APIView):
    permission_classes = [IsPatient]
    throttle_scope = "auth"  # codes are guessable only by brute force; keep that slow

    @extend_schema(request=InvitationAcceptSerializer, responses={201: CareLinkSerializer})
    def post(self, request: Request) -> Response:
        data = InvitationAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        link = services.invitation_accept(patient=request.user, code=data.validated_data["code"])
        return Response(CareLinkSerializer(link).data, status=status.HTTP_201_CREATED)


class CareLinkListView(generics.ListAPIView):
    """Your active links: a patient sees their therapists, a therapist their patients."""

    serializer_class = CareLinkSerializer

    def get_queryset(self):
        return selectors.care_links_of(user=self.request.user)


class CareLinkDetailView(generics.RetrieveDestroyAPIView):
    """Either side may end a link; the row stays on record with who ended it and when."""

    serializer_class = CareLinkSerializer

    def get_object(self):
        link = get_object_or_404(
            selectors.care_links_of(user=self.request.user), pk=self.kwargs["pk"]
        )
        self.check_object_permissions(self.request, link)
        return link

    def perform_destroy(self, instance) -> None:
        services.care_link_end(link=instance, by=self.request.user)
